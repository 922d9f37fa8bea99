"""Renders ``docs/data-contract.md`` from the contract, so the document cannot drift from the code.

Regenerate with ``python -m aftersales.core.contract_doc > docs/data-contract.md``
(a test fails when the file is out of date).
"""

from __future__ import annotations

from aftersales.core import contract

__all__ = ["render"]

_TYPES = {
    "string": "text",
    "int": "integer",
    "bool": "true/false",
    "money": "money (exact, 2 decimals)",
    "timestamp": "time stamp with zone (stored UTC)",
    "date": "date (YYYY-MM-DD)",
    "json": "JSON object",
}

INTRO = """# Data contract

Every importer maps onto these tables and every metric reads them. They are defined once, in
`src/aftersales/core/contract.py`; this page is generated from it
(`python -m aftersales.core.contract_doc > docs/data-contract.md`), and a test fails when it is out of date.

Conventions:

- **Keys.** Each table has a natural key (the upsert key): importing a row whose key exists updates
  that row; importing the same file twice changes nothing.
- **Time stamps** must carry a zone on input (`2024-03-01T10:00:00+01:00` or `...Z`) and fall in the
  years 1900-2199 once in UTC; they are stored in UTC. A file whose time stamps name no zone can be
  imported with `--assume-timezone ZONE`. A **date-only value** (`2024-03-01`) in a time stamp column
  means the start of that day (00:00) in the reporting time zone, or in the assumed zone when one is
  given, so the order lands on the day it names. Calendar periods (day, week, month, quarter, year)
  are cut in the business's reporting time zone, `AFTERSALES_REPORTING_TIMEZONE` (an IANA name,
  default `UTC`).
- **Money** is exact in the store (`NUMERIC(18,2)`) and float64 in analytics: at most {decimals}
  decimal places (a fraction of a cent is refused, never rounded silently) and less than 10^{money}
  in absolute value. Order revenue is net of discounts and excludes tax and shipping.
- **Text** may not contain a NUL character (PostgreSQL cannot store one) and holds at most
  {text:,} characters; keys and references at most {key:,}; JSON objects at most {json:,}.
  Integers fit in 64 bits.
- **Survey scores** lie on their kind's scale: {scales}. The importer, the API and the generator
  apply the same scales.
- **Time zones and locales** of customers are checked against the IANA time zone database and
  CLDR (unknown zones, languages or territories are refused) and normalised (`europe/berlin` →
  `Europe/Berlin`, `de-CH` → `de_CH`). Left empty, the business defaults apply
  (`AFTERSALES_DEFAULT_TIMEZONE`, `AFTERSALES_DEFAULT_LOCALE`); time-of-day rules (quiet hours, send
  windows) follow the customer's own zone, daylight saving included.
- **Required** columns must be present in a file and filled in every row; a column with a default takes it
  when the value is missing.
- **References** are foreign keys: a row that points to a customer, order or product the store does not
  hold is rejected (or, for customers, created with `--create-missing-customers`).
"""


def _intro() -> str:
    return INTRO.format(
        decimals=contract.MONEY_DECIMALS,
        money=len(str(contract.MONEY_LIMIT)) - 1,
        text=contract.MAX_TEXT_LENGTH,
        key=contract.MAX_KEY_LENGTH,
        json=contract.MAX_JSON_LENGTH,
        scales=", ".join(f"{k.upper()} {lo}-{hi}" for k, (lo, hi) in contract.SURVEY_SCALES.items()),
    )


def _row(t: contract.Table, c: contract.Column) -> str:
    notes = []
    if c.name in t.key:
        notes.append("key")
    elif c.required:
        notes.append("required")
    if c.references:
        notes.append(f"→ `{c.references}`")
    if c.choices:
        notes.append("one of " + ", ".join(f"`{x}`" for x in c.choices))
    if c.minimum is not None:
        notes.append(f"≥ {c.minimum:g}")
    if c.scales:
        notes.append(f"by `{c.scale_by}`: " + ", ".join(f"{v} {lo}-{hi}" for v, lo, hi in c.scales))
    if c.text_format:
        notes.append(contract.TEXT_FORMATS[c.text_format])
    if c.default is not None:
        notes.append(f"default `{c.default}`")
    return f"| `{c.name}` | {_TYPES[c.type]} | {'; '.join(notes)} | {c.description} |"


def render() -> str:
    """The Markdown text of docs/data-contract.md."""
    parts = [
        _intro(),
        f"Contract version {contract.CONTRACT_VERSION}. Tables: "
        + ", ".join(f"[`{n}`](#{n})" for n in contract.TABLES)
        + ".\n",
    ]
    for t in contract.TABLES.values():
        parts.append(f"## {t.name}\n\n{t.description}\n\nKey: {', '.join(f'`{k}`' for k in t.key)}.\n")
        parts.append("| column | type | rules | meaning |\n|---|---|---|---|")
        parts.extend(_row(t, c) for c in t.columns)
        parts.append("")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
