"""``aftersales keys create`` on a lean path: the command people script runs without building the
Typer app or importing SQLAlchemy (issue 11: it took ~1 s of CPU to start; docs/cli.md, Start-up time).

:func:`main <aftersales.entrypoints.cli.app.main>` hands ``keys create ...`` here first. :func:`parse`
accepts only plainly valid arguments: ``--scope ingest|read|admin`` (required), ``--name TEXT`` and
``--db URL``, each at most once, as ``--opt value`` or ``--opt=value``, no value starting with ``-``.
Anything else (``--help``, a missing or wrong value, an unknown option, a repeated one) goes to the
full app, so help and usage errors are Click's own, word for word. The key is then stored only if the
store is already at the head (``bootstrap.keys``); a store to create or migrate, an unusual URL or any
error before the key is stored also goes to the full path, which does the same work the usual way.
Either way the output is :func:`announce`'s.

>>> parse(["--scope", "ingest", "--name=shop", "--db", "s.db"])
{'--scope': 'ingest', '--name': 'shop', '--db': 's.db'}
>>> parse(["--scope", "boss"]), parse(["--name", "shop"]), parse(["--scope", "read", "--help"])
(None, None, None)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aftersales.services.operational.api_keys import SCOPES

if TYPE_CHECKING:
    from aftersales.services.operational.api_keys import CreatedKey

__all__ = ["announce", "create", "parse"]

_OPTIONS = ("--scope", "--name", "--db")


def parse(args: Sequence[str]) -> dict[str, str] | None:
    """The options of ``keys create ARGS`` (long name -> value) when they are plainly valid (see the
    module's docstring), else None: the full app then parses them and reports what is wrong."""
    found: dict[str, str] = {}
    rest = list(args)
    while rest:
        token = rest.pop(0)
        option, eq, value = token.partition("=")
        if option not in _OPTIONS or option in found:
            return None
        if not eq:
            if not rest:
                return None
            value = rest.pop(0)
        if value.startswith("-"):
            return None
        found[option] = value
    return found if found.get("--scope") in SCOPES else None


def announce(created: CreatedKey) -> None:
    """The key on stdout (once: only its hash is stored), what was created on stderr."""
    print(created.key)
    print(f"key {created.key_id} (scope {created.scope}) created; store it now, it is not shown again", file=sys.stderr)


def create(args: Sequence[str]) -> bool:
    """Run ``keys create ARGS`` on the lean path; False, with nothing stored or printed, when the full
    path must run it instead."""
    opts = parse(args)
    if opts is None:
        return False
    from aftersales.bootstrap.keys import create_key_at_head

    try:
        created = create_key_at_head(opts["--scope"], opts.get("--name"), opts.get("--db"))
    except Exception:  # noqa: BLE001 - nothing is stored yet: the full path runs and reports it its way
        return False
    if created is None:
        return False
    announce(created)
    return True
