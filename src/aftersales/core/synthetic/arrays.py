"""Arrow arrays built straight from numpy buffers: fixed-width keys and UTC time stamps.

Formatting ten million keys with Python string operations takes longer than simulating the store,
so keys are written digit by digit into one byte buffer and handed to Arrow without copying.
"""

from __future__ import annotations

from collections.abc import Mapping, Sized

import numpy as np
import pyarrow as pa

from aftersales.core.contract import arrow_schema

__all__ = ["DAY_US", "contract_table", "format_ids", "key_width", "money", "timestamps"]

DAY_US = 86_400_000_000
"""Microseconds per day: internal times are float days since 1970-01-01 UTC."""


def key_width(n: int, minimum: int) -> int:
    """Digits needed to number ``1..n``, at least ``minimum``.

    >>> key_width(20_000, 7), key_width(123_456_789, 7)
    (7, 9)
    """
    return max(minimum, len(str(max(n, 1))))


def format_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.StringArray:
    """``prefix`` followed by each number zero-padded to ``width`` digits.

    >>> format_ids("C", np.array([1, 42]), 4).to_pylist()
    ['C0001', 'C0042']
    """
    numbers = np.asarray(numbers, dtype=np.int64)
    if numbers.size and (numbers.min() < 0 or numbers.max() >= 10**width):
        raise ValueError(f"numbers do not fit in {width} digits")
    head = prefix.encode("ascii")
    size = len(head) + width
    n = numbers.size
    buf = np.empty((n, size), dtype=np.uint8)
    buf[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    rest = numbers.copy()
    for pos in range(size - 1, len(head) - 1, -1):
        buf[:, pos] = rest % 10 + 48
        rest //= 10
    offsets = np.arange(0, (n + 1) * size, size, dtype=np.int64)
    if offsets[-1] < 2**31:
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(buf))
    large = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf))
    return large.cast(pa.string())


def timestamps(days: np.ndarray, valid: np.ndarray | None = None) -> pa.TimestampArray:
    """UTC time stamps (microseconds) from float days since the epoch; ``valid`` False gives null.

    >>> timestamps(np.array([1.5, 2.0]), np.array([True, False])).to_pylist()[0].isoformat()
    '1970-01-02T12:00:00+00:00'
    """
    us = np.rint(np.asarray(days, dtype=np.float64) * DAY_US)
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    if mask is not None:
        us = np.where(mask, 0.0, us)
    return pa.array(us.astype(np.int64), type=pa.timestamp("us", tz="UTC"), mask=mask)


def money(amount: np.ndarray) -> np.ndarray:
    """Amounts rounded to cents (the store keeps money exact to two decimals).

    >>> money(np.array([1.005, 2.499])).tolist()
    [1.0, 2.5]
    """
    return np.round(np.asarray(amount, dtype=np.float64), 2)


def contract_table(name: str, columns: Mapping[str, Sized]) -> pa.Table:
    """A table with exactly the contract's Arrow schema; missing nullable columns become null.
    ``columns`` hold arrays (NumPy, Arrow or lists), all of one length."""
    schema = arrow_schema(name)
    n = None
    for v in columns.values():
        n = len(v)
        break
    arrays = []
    for field in schema:
        value = columns.get(field.name)
        if isinstance(value, (pa.Array, pa.ChunkedArray)):
            arrays.append(value if value.type == field.type else value.cast(field.type))
        elif field.name in columns:
            arrays.append(pa.array(value, type=field.type))
        else:
            arrays.append(pa.nulls(n or 0, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
