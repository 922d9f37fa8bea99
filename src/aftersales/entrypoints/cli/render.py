"""Rendering of command results: a readable table by default, ``json`` or ``csv`` for scripts."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["OutputFormat", "render_records", "to_jsonable"]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def to_jsonable(value: Any) -> Any:
    """Make a value JSON-serialisable: dates as ISO strings, NaN/inf as null, Decimals as floats."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return to_jsonable(value.item())
    return value


def _cell(value: Any) -> str:
    value = to_jsonable(value)
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def render_records(
    records: Sequence[Mapping[str, Any]],
    fmt: OutputFormat = OutputFormat.table,
    *,
    title: str | None = None,
    console: Console | None = None,
) -> str:
    """Render ``records`` (a list of dicts sharing keys) and print it; returns the printed text."""
    records = [dict(r) for r in records]
    columns: list[str] = []
    for r in records:
        for k in r:
            if k not in columns:
                columns.append(k)
    if fmt == OutputFormat.json:
        text = json.dumps([to_jsonable(r) for r in records], indent=2)
        print(text)
        return text
    if fmt == OutputFormat.csv:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for r in records:
            writer.writerow({k: "" if to_jsonable(r.get(k)) is None else to_jsonable(r.get(k)) for k in columns})
        print(buf.getvalue(), end="")
        return buf.getvalue()
    table = Table(title=title, title_justify="left", show_lines=False)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in records:
        table.add_row(*(_cell(r.get(c)) for c in columns))
    console = console or Console(width=max(100, Console().width))
    with console.capture() as cap:
        console.print(table)
    text = cap.get()
    print(text, end="")
    return text
