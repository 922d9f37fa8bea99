"""Row validation against the data contract, vectorised over a batch (a pandas DataFrame).

Input values may be text (CSV, JSON Lines) or already typed (Parquet, generated Arrow tables).
Each column is parsed by its logical type; every problem of a row is named in its reason, e.g.
``ordered_at: no time zone in '2024-03-01 10:00'; revenue: must be >= 0, got -3``.

Rules (docs/importing.md):

- text is stripped; an empty string is a missing value;
- a missing required field, an unparseable number / date / time stamp, a value outside the allowed
  choices or below the column's minimum (e.g. a negative quantity) rejects the row;
- time stamps must carry a zone (``Z`` or ``+01:00``); they are converted to UTC;
- money is rounded to cents; integers must be whole numbers;
- a missing optional value takes the column's default, if it has one.

>>> import pandas as pd
>>> from aftersales.core.contract import get_table
>>> raw = pd.DataFrame({"order_id": ["A", "B"], "customer_id": ["c1", ""],
...                     "ordered_at": ["2024-03-01T10:00:00+01:00", "2024-03-01 10:00"],
...                     "revenue": ["10.5", "-1"]})
>>> result = validate(get_table("orders"), raw)
>>> result.valid["ordered_at"].iloc[0].isoformat(), result.valid["status"].iloc[0]
('2024-03-01T09:00:00+00:00', 'placed')
>>> result.reasons.iloc[0]
"customer_id: missing required field; ordered_at: no time zone in '2024-03-01 10:00'; revenue: must be >= 0, got '-1'"
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from aftersales.core.contract import MAX_YEAR, MIN_YEAR, Column, Table

__all__ = ["ValidationResult", "validate"]

_ZONE = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


@dataclass(frozen=True)
class ValidationResult:
    """``valid``: typed rows that passed (original index kept); ``reasons``: why each other row failed."""

    valid: pd.DataFrame
    reasons: pd.Series

    @property
    def rejected_index(self) -> pd.Index:
        return self.reasons.index


def _show(raw: pd.Series) -> pd.Series:
    return "'" + raw.astype(str).str.slice(0, 60) + "'"


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)


def _as_text(s: pd.Series) -> pd.Series:
    """Text view of a column (object dtype): stripped strings; missing and empty values are None."""
    if pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
        text = s.str.strip()
        text = text.astype(object).where(text.notna() & (text != ""), None)
        return pd.Series(text, index=s.index, dtype=object)
    if s.isna().all():  # e.g. a contract column the file does not have
        return pd.Series([None] * len(s), index=s.index, dtype=object)
    out: list[str | None] = []
    for v in s.tolist():
        if _missing(v):
            out.append(None)
        elif isinstance(v, str):
            v = v.strip()
            out.append(v or None)
        elif isinstance(v, datetime):
            out.append(v.isoformat())
        else:
            out.append(str(v))
    return pd.Series(out, index=s.index, dtype=object)


def _present(s: pd.Series) -> pd.Series:
    if pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
        return _as_text(s).notna()
    return s.notna()


def _in_years(values: pd.Series, raw: pd.Series, err: pd.Series) -> tuple[pd.Series, pd.Series]:
    years = values.dt.year
    off = values.notna() & ((years < MIN_YEAR) | (years > MAX_YEAR))
    err[off] = f"time stamp outside the years {MIN_YEAR}-{MAX_YEAR}: " + _show(raw[off])
    return values.where(~off), err


def _parse(col: Column, s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse one column. Returns (typed values with NA for missing, error message or None per row)."""
    present = _present(s)
    err = pd.Series(None, index=s.index, dtype=object)
    kind = col.type
    if kind in ("int", "money"):
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            num = s.astype("float64")
        else:
            num = pd.to_numeric(_as_text(s), errors="coerce").astype("float64")
        bad = present & ~np.isfinite(num.fillna(np.nan).to_numpy(dtype="float64", na_value=np.nan))
        err[bad] = "not a number: " + _show(s[bad])
        if kind == "int":
            frac = present & ~bad & (num % 1 != 0)
            err[frac] = "not a whole number: " + _show(s[frac])
            bad = bad | frac
            values = num.where(~bad).astype("Int64")
        else:
            values = num.where(~bad).round(2)
        return values, err
    if kind == "bool":
        if pd.api.types.is_bool_dtype(s.dtype):
            return s.astype("boolean"), err
        flags = [
            None if v is None else (True if v.lower() in _TRUE else (False if v.lower() in _FALSE else None))
            for v in _as_text(s)
        ]
        values = pd.Series(flags, index=s.index, dtype="boolean")
        bad = present & values.isna()
        err[bad] = "not true/false: " + _show(s[bad])
        return values, err
    if kind == "timestamp":
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            return _in_years(s.dt.tz_convert("UTC"), s, err)
        if pd.api.types.is_datetime64_dtype(s.dtype):
            err[present] = "no time zone in " + _show(s[present])
            return pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]"), err
        text = _as_text(s)
        has_zone = pd.Series([v is not None and _ZONE.search(v) is not None for v in text], index=s.index)
        values = pd.to_datetime(text.where(has_zone), format="ISO8601", utc=True, errors="coerce")
        nozone = present & ~has_zone
        unparsed = present & has_zone & values.isna()
        err[nozone] = "no time zone in " + _show(s[nozone])
        err[unparsed] = "not a time stamp: " + _show(s[unparsed])
        return _in_years(values.astype("datetime64[us, UTC]"), s, err)
    if kind == "date":
        text = _as_text(s)
        values = pd.to_datetime(text, format="ISO8601", errors="coerce")
        bad = present & values.isna()
        err[bad] = "not a date: " + _show(s[bad])
        return values.dt.date.where(values.notna(), None), err
    text = _as_text(s)
    if kind == "json":

        def check(v: str | None) -> str | None:
            if v is None:
                return None
            try:
                return None if isinstance(json.loads(v), dict) else "not a JSON object"
            except ValueError:
                return "not valid JSON"

        msgs = pd.Series([check(v) for v in text], index=s.index, dtype=object)
        err[msgs.notna()] = msgs[msgs.notna()] + ": " + _show(s[msgs.notna()])
    return text, err


def validate(table: Table, raw: pd.DataFrame) -> ValidationResult:
    """Validate and type a batch of ``table`` rows whose columns are contract column names.

    Columns absent from ``raw`` are treated as missing values.
    """
    reasons = pd.Series("", index=raw.index, dtype=object)
    typed: dict[str, pd.Series] = {}

    def add(mask: pd.Series, msg: pd.Series | str) -> None:
        nonlocal reasons
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        sep = reasons.where(reasons == "", reasons + "; ")
        reasons = reasons.where(~mask, sep + msg)

    for col in table.columns:
        s = raw[col.name] if col.name in raw.columns else pd.Series(None, index=raw.index, dtype=object)
        values, err = _parse(col, s)
        has_err = err.notna()
        add(has_err, col.name + ": " + err.astype(str))
        if col.default is not None:
            values = values.where(values.notna() | has_err, col.default)
        if col.required or col.name in table.key:
            add(values.isna() & ~has_err, f"{col.name}: missing required field")
        if col.choices:
            off = values.notna() & ~values.isin(col.choices)
            add(off, f"{col.name}: must be one of {', '.join(col.choices)}, got " + _show(values.where(off, "")))
        if col.minimum is not None and col.type in ("int", "money"):
            low = values.notna() & (values.astype("float64") < col.minimum)
            add(low, f"{col.name}: must be >= {col.minimum:g}, got " + _show(s.where(low, "")))
        typed[col.name] = values
    bad = reasons != ""
    valid = pd.DataFrame(typed, index=raw.index)[~bad]
    return ValidationResult(valid=valid, reasons=reasons[bad])
