"""Registry of command groups: each group module exposes ``register(app)``."""

from __future__ import annotations

import importlib

import typer

# Modules under aftersales.entrypoints.cli that each define ``register(app: typer.Typer)``.
COMMAND_MODULES: tuple[str, ...] = (
    "demo",
    "store",
    "generate",
    "serve",
    "keys",
    "clv",
    "refresh",
    "segments",
    "experiment",
    "metrics",
    "audiences",
    "lookalike",
    "messages",
    "outbox",
    "journeys",
    "journeys_run",
    "journeys_report",
    "worker",
    "loyalty",
    "surveys",
    "reviews",
)


def register(app: typer.Typer) -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"aftersales.entrypoints.cli.{name}").register(app)
