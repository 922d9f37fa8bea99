"""Row validation against the data contract, vectorised over a batch (a pandas DataFrame).

Input values may be text (CSV, JSON Lines) or already typed (Parquet, generated Arrow tables).
Each column is parsed by its logical type; every problem of a row is named in its reason, e.g.
``ordered_at: no time zone in '2024-03-01 10:00'; revenue: must be >= 0, got -3``.

Rules (docs/importing.md; the limits are the contract's, shared with the API):

- text is stripped; an empty string is a missing value;
- a missing required field, an unparseable number / date / time stamp, a value outside the allowed
  choices, below the column's minimum (e.g. a negative quantity) or off its scale (a CSAT of 9)
  rejects the row;
- a text column with a ``text_format`` (a customer's time zone or locale) must hold a known value
  of that form, which is stored normalised (``contract.normalise_text``: ``de-CH`` -> ``de_CH``);
- text may not hold a NUL or a lone surrogate, nor exceed ``MAX_TEXT_LENGTH`` characters
  (``MAX_KEY_LENGTH`` for keys and references, ``MAX_JSON_LENGTH`` for JSON);
- time stamps must carry a zone (``Z`` or ``+01:00``), unless :class:`TimeRules` names a zone to
  assume for those without; they are converted to UTC. A date-only value (``2024-03-01``) is the
  start of that day in ``TimeRules.date_zone``;
- money must have at most 2 decimal places (a fraction of a cent is refused: rounding it would
  change the amount silently) and an absolute value below ``MONEY_LIMIT``; integers must be whole
  and fit in 64 bits;
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
>>> later = validate(get_table("orders"), raw, TimeRules(naive_zone="Europe/Oslo"))
>>> later.reasons.iloc[0]
"customer_id: missing required field; revenue: must be >= 0, got '-1'"
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from aftersales.core import contract
from aftersales.core.contract import MAX_YEAR, MIN_YEAR, Column, Table

__all__ = ["TimeRules", "ValidationResult", "validate"]

_ZONE = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


@dataclass(frozen=True)
class TimeRules:
    """How to read time stamps that do not name their zone.

    ``naive_zone``: IANA zone assumed for a date and time without a zone (``None``: such a value
    is rejected); ``date_zone``: zone whose midnight a date-only value means.
    """

    naive_zone: str | None = None
    date_zone: str = "UTC"


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


def _utf8(v: str) -> bool:
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text_problems(text: pd.Series, limit: int, err: pd.Series) -> None:
    """Name what no store can hold (NUL, lone surrogates) and text over ``limit`` characters.

    The common case (no NUL, valid UTF-8) is checked once over the whole column, not per value.
    """
    values = text.dropna()
    if values.empty:
        return
    joined = "".join(values.tolist())
    if "\x00" in joined or not (joined.isascii() or _utf8(joined)):
        nul = values.map(lambda v: "\x00" in v)
        err[nul[nul].index] = "contains a NUL character: " + _show(values[nul].str.replace("\x00", "\\x00"))
        broken = values.map(lambda v: not _utf8(v)) & ~nul
        err[broken[broken].index] = "not valid UTF-8 text (a lone surrogate)"
    lengths = values.map(len)
    long = lengths > limit
    if long.any():
        err[long[long].index] = f"longer than {limit:,} characters (" + lengths[long].map("{:,}".format) + ")"


def _in_years(values: pd.Series, raw: pd.Series, err: pd.Series) -> tuple[pd.Series, pd.Series]:
    years = values.dt.year
    off = values.notna() & ((years < MIN_YEAR) | (years > MAX_YEAR))
    err[off] = f"time stamp outside the years {MIN_YEAR}-{MAX_YEAR}: " + _show(raw[off])
    return values.where(~off), err


def _localize(naive: pd.Series, zone: str, midnight: bool) -> pd.Series:
    """Wall-clock times in ``zone`` as UTC; NaT where the time does not exist or is ambiguous there
    (a daylight-saving change). A day's midnight takes the first instant of that day instead."""
    if midnight:
        local = naive.dt.tz_localize(zone, ambiguous=np.ones(len(naive), bool), nonexistent="shift_forward")
    else:
        local = naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    return _utc_us(local)


def _utc_us(stamps: pd.Series) -> pd.Series:
    """Zone-aware time stamps in UTC at microsecond precision, the contract's timestamp type."""
    utc: pd.Series = stamps.dt.tz_convert("UTC")  # pandas-stubs type ``.dt`` of an element-untyped Series as Any
    return utc.astype("datetime64[us, UTC]")


def _timestamps(s: pd.Series, present: pd.Series, err: pd.Series, rules: TimeRules) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return _utc_us(s)
    if pd.api.types.is_datetime64_dtype(s.dtype):
        if rules.naive_zone is None:
            err[present] = "no time zone in " + _show(s[present])
            return pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
        values = _localize(s, rules.naive_zone, midnight=False)
        gap = present & values.isna()
        err[gap] = f"not a valid local time in {rules.naive_zone} (a daylight-saving change): " + _show(s[gap])
        return values
    text = _as_text(s)
    date_only = pd.Series([v is not None and _DATE_ONLY.match(v) is not None for v in text], index=s.index)
    has_zone = pd.Series([v is not None and _ZONE.search(v) is not None for v in text], index=s.index) & ~date_only
    values = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
    if has_zone.any():
        parsed = pd.to_datetime(text.where(has_zone), format="ISO8601", utc=True, errors="coerce")
        values = values.where(~has_zone, parsed.astype("datetime64[us, UTC]"))
    if date_only.any():
        days = pd.to_datetime(text.where(date_only), format="%Y-%m-%d", errors="coerce")
        values = values.where(~date_only, _localize(days, rules.date_zone, midnight=True))
    naive = present & ~has_zone & ~date_only
    if naive.any():
        wall = pd.to_datetime(text.where(naive), format="ISO8601", errors="coerce")
        nonsense = naive & wall.isna()
        err[nonsense] = "not a time stamp: " + _show(s[nonsense])
        naive = naive & ~nonsense
        if rules.naive_zone is None:
            err[naive] = "no time zone in " + _show(s[naive])
        elif naive.any():
            local = _localize(wall.where(naive), rules.naive_zone, midnight=False)
            values = values.where(~naive, local)
            gap = naive & local.isna()
            err[gap] = f"not a valid local time in {rules.naive_zone} (a daylight-saving change): " + _show(s[gap])
    unparsed = present & (has_zone | date_only) & values.isna()
    err[unparsed] = "not a time stamp: " + _show(s[unparsed])
    return values


def _numbers(col: Column, s: pd.Series, present: pd.Series, err: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        num = s.astype("float64")
    else:
        num = pd.to_numeric(_as_text(s), errors="coerce").astype("float64")
    bad = present & ~np.isfinite(num.fillna(np.nan).to_numpy(dtype="float64", na_value=np.nan))
    err[bad] = "not a number: " + _show(s[bad])
    ok = present & ~bad
    if col.type == "int":
        frac = ok & (num % 1 != 0)
        err[frac] = "not a whole number: " + _show(s[frac])
        big = ok & ~frac & (num.abs() >= contract.INT_LIMIT)
        err[big] = "out of range for a 64-bit integer: " + _show(s[big])
        return num.where(~(bad | frac | big)).astype("Int64")
    # Cents, with a tolerance of a few ulps: 19.99 as a float is 1998.9999999999998 cents.
    cents = num * 10**contract.MONEY_DECIMALS
    off = (cents - np.rint(cents)).abs() > 1e-6 + cents.abs() * 4e-16
    frac = ok & off
    err[frac] = f"more than {contract.MONEY_DECIMALS} decimal places: " + _show(s[frac])
    big = ok & ~frac & (num.abs() >= contract.MONEY_LIMIT)
    err[big] = f"must be less than {contract.MONEY_LIMIT:,} in absolute value, got " + _show(s[big])
    return num.where(~(bad | frac | big)).round(contract.MONEY_DECIMALS)


def _parse(col: Column, s: pd.Series, rules: TimeRules, key: bool) -> tuple[pd.Series, pd.Series]:
    """Parse one column. Returns (typed values with NA for missing, error message or None per row)."""
    present = _present(s)
    err = pd.Series(None, index=s.index, dtype=object)
    kind = col.type
    if kind in ("int", "money"):
        return _numbers(col, s, present, err), err
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
        return _in_years(_timestamps(s, present, err, rules), s, err)
    if kind == "date":
        text = _as_text(s)
        values = pd.to_datetime(text, format="ISO8601", errors="coerce")
        bad = present & values.isna()
        err[bad] = "not a date: " + _show(s[bad])
        return values.dt.date.where(values.notna(), None), err
    text = _as_text(s)
    if kind == "json":
        _text_problems(text, contract.MAX_JSON_LENGTH, err)

        def check(v: str | None) -> str | None:
            if v is None:
                return None
            try:
                return None if isinstance(json.loads(v), dict) else "not a JSON object"
            except ValueError:
                return "not valid JSON"

        msgs = pd.Series([check(v) for v in text], index=s.index, dtype=object).where(err.isna())
        err[msgs.notna()] = msgs[msgs.notna()] + ": " + _show(s[msgs.notna()])
    else:
        _text_problems(text, contract.MAX_KEY_LENGTH if key else contract.MAX_TEXT_LENGTH, err)
        if col.text_format is not None:
            text = _formatted(col.text_format, text, err)
    return text.where(err.isna()), err


def _formatted(text_format: contract.TextFormat, text: pd.Series, err: pd.Series) -> pd.Series:
    """Values in their normal form (``contract.normalise_text``, once per distinct value); why not
    into ``err`` for those that have none (``unknown time zone 'Mars/Base'``)."""
    normal: dict[str, str] = {}
    why: dict[str, str] = {}
    for v in text.dropna().unique().tolist():
        try:
            normal[v] = contract.normalise_text(text_format, v)
        except ValueError as e:
            why[v] = str(e)
    if why:
        msgs = pd.Series([None if v is None else why.get(v) for v in text], index=text.index, dtype=object)
        bad = msgs.notna() & err.isna()
        err[bad] = msgs[bad]
    return pd.Series([None if v is None else normal.get(v) for v in text], index=text.index, dtype=object)


def _off_scale(col: Column, values: pd.Series, typed: dict[str, pd.Series]) -> pd.Series:
    """Why each value is off the scale its ``scale_by`` column selects (None when on it)."""
    why = pd.Series(None, index=values.index, dtype=object)
    by = typed.get(col.scale_by or "")
    if by is None:
        return why
    for choice, lo, hi in col.scales:
        off = values.notna() & (by == choice).fillna(False) & ((values < lo) | (values > hi)).fillna(False)
        why[off] = f"{choice} scores run from {lo} to {hi}, got " + values[off].astype(str)
    return why


def validate(table: Table, raw: pd.DataFrame, rules: TimeRules | None = None) -> ValidationResult:
    """Validate and type a batch of ``table`` rows whose columns are contract column names.

    Columns absent from ``raw`` are treated as missing values; ``rules`` say how to read time stamps
    without a zone (default: reject them; dates are days in UTC).
    """
    rules = rules or TimeRules()
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
        key = col.name in table.key or col.references is not None
        values, err = _parse(col, s, rules, key)
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
        if col.scales:
            why = _off_scale(col, values, typed)
            add(why.notna(), col.name + ": " + why.astype(str))
        typed[col.name] = values
    bad = reasons != ""
    valid = pd.DataFrame(typed, index=raw.index)[~bad]
    return ValidationResult(valid=valid, reasons=reasons[bad])
