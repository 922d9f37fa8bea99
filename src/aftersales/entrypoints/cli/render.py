"""Rendering of command results: a readable table by default, ``json`` or ``csv`` for scripts.

Money has one format everywhere: tables show ``1,234,567.89`` (thousands separators, two decimals),
JSON and CSV carry the amount rounded to cents (``1516374.98``, never ``1516374.9800000018``: float
sums of NUMERIC(18,2) amounts pick up binary noise). Which values are money is known by name, from
the data contract's ``money`` columns and the metric registry's ``MONEY_METRICS``
(:func:`money_names`); nothing here lists them again.

Tables go to a terminal at its width; anywhere else (a pipe, a file, CI) at their natural width, so a
column header is never folded letter by letter to fit an 80-column default.

``rich`` and the contract/registry are imported when something is rendered, not when the command
tree is built: ``aftersales --help`` stays cheap (docs/cli.md, bench/bench_startup.py).
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "OutputFormat",
    "format_cell",
    "is_money",
    "money_names",
    "print_json",
    "render_records",
    "to_jsonable",
]

#: The column of a metric record that names the metric; its ``value`` is money when the metric is.
_METRIC_KEY, _VALUE_KEY = "metric", "value"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@cache
def money_names() -> frozenset[str]:
    """Names that denote an amount of money: the contract's ``money`` columns (revenue, mrr, price,
    amount, ...) and the metrics whose value is money (``core.metrics.registry.MONEY_METRICS``).

    Imported on first use: both modules pull in Arrow and Ibis, which building the CLI must not."""
    from aftersales.core.contract import TABLES
    from aftersales.core.metrics.registry import MONEY_METRICS

    columns = {c.name for t in TABLES.values() for c in t.columns if c.type == "money"}
    return frozenset(columns | set(MONEY_METRICS))


def is_money(name: str) -> bool:
    """Whether a column called ``name`` holds money: a money name itself, or one joined to a qualifier
    by ``_`` (``starting_mrr``, ``revenue_existing``, ``previous_revenue``).

    >>> is_money("revenue"), is_money("ending_mrr"), is_money("revenue_existing"), is_money("orders")
    (True, True, True, False)
    """
    words = name.lower().split("_")
    names = money_names()
    return any("_".join(words[i:j]) in names for i in range(len(words)) for j in range(i + 1, len(words) + 1))


def _money_keys(record: Mapping[str, Any]) -> set[str]:
    """The keys of ``record`` holding money; a metric record's ``value`` follows its metric's name."""
    keys = {str(k) for k, v in record.items() if _is_number(v) and is_money(str(k))}
    metric = record.get(_METRIC_KEY)
    if isinstance(metric, str) and _is_number(record.get(_VALUE_KEY)) and is_money(metric):
        keys.add(_VALUE_KEY)
    return keys


def _is_number(value: Any) -> bool:
    return isinstance(value, float | Decimal) or (hasattr(value, "dtype") and hasattr(value, "item"))


def _cents(value: Any) -> Any:
    """Round a money amount to cents (exact for Decimals, nearest for floats); None/NaN stay as they are."""
    value = to_jsonable(value)
    return round(value, 2) if isinstance(value, float) else value


def to_jsonable(value: Any) -> Any:
    """Make a value JSON-serialisable: dates as ISO strings, NaN/inf as null, Decimals as floats; in a
    mapping, money (see :func:`is_money`) is rounded to cents."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return to_jsonable(float(value))
    if isinstance(value, Mapping):
        money = _money_keys(value) if any(_is_number(v) for v in value.values()) else set()
        return {str(k): _cents(v) if str(k) in money else to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return to_jsonable(value.item())
    return value


def print_json(obj: Any) -> str:
    """Print ``obj`` as indented JSON (through :func:`to_jsonable`); returns the text. The one JSON
    writer of the CLI."""
    text = json.dumps(to_jsonable(obj), indent=2)
    print(text)
    return text


def format_cell(value: Any, *, money: bool = False) -> str:
    """One table cell. Money: ``1,234.50``. Other floats: four significant digits below 10,000, whole
    numbers with separators above (never ``6.979e+05``). Integers with separators; None as ``—``.

    >>> format_cell(697872.0712, money=True), format_cell(697872.07), format_cell(0.1234), format_cell(12345)
    ('697,872.07', '697,872', '0.1234', '12,345')
    """
    value = to_jsonable(value)
    if value is None:
        return "—"
    if isinstance(value, float):
        if money:
            return f"{value:,.2f}"
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
    rows = [to_jsonable(r) for r in records]
    columns: list[str] = []
    for r in rows:
        for k in r:
            if k not in columns:
                columns.append(k)
    if fmt == OutputFormat.json:
        return print_json(rows)
    if fmt == OutputFormat.csv:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: "" if r.get(k) is None else r.get(k) for k in columns})
        print(buf.getvalue(), end="")
        return buf.getvalue()
    return _print_table(records, columns, title, console)


def _print_table(
    records: Sequence[Mapping[str, Any]], columns: list[str], title: str | None, console: Console | None
) -> str:
    from rich.console import Console
    from rich.measure import Measurement
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=False)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in records:
        money = _money_keys(r) if any(_is_number(v) for v in r.values()) else set()
        table.add_row(*(format_cell(r.get(c), money=c in money) for c in columns))
    if console is None:
        console = Console(file=sys.stdout)
        if not console.is_terminal:  # a pipe or a file: the table's natural width, never a folded header
            natural = Measurement.get(console, console.options.update_width(100_000), table).maximum
            console = Console(file=sys.stdout, width=max(natural, 80))
    with console.capture() as cap:
        console.print(table)
    text = cap.get()
    print(text, end="")
    return text
