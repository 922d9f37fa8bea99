"""Turn arithmetic failures on extreme data into clear input errors (never an internal error)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from aftersales.core.errors import ValidationError

__all__ = ["dates_in_range"]

P = ParamSpec("P")
R = TypeVar("R")


def dates_in_range(func: Callable[P, R]) -> Callable[P, R]:
    """Period and age arithmetic on time stamps near year 1 or 9999 overflows Python's dates; say so.

    >>> @dates_in_range
    ... def tomorrow_of_max():
    ...     from datetime import date, timedelta
    ...     return date.max + timedelta(days=1)
    >>> tomorrow_of_max()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    aftersales.core.errors.ValidationError: the data has time stamps too close to year 1 or 9999 ...
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (OverflowError, ValueError) as exc:
            text = str(exc).lower()
            if isinstance(exc, ValueError) and "out of range" not in text and "out of bounds" not in text:
                raise
            raise ValidationError(
                f"the data has time stamps too close to year 1 or 9999 for calendar arithmetic ({exc}); "
                "check ordered_at and the other dates"
            ) from exc

    return wrapper
