"""The one AST of a segment definition: frozen dataclasses, shared by the text and JSON spellings.

A condition is a profile-field test (:class:`Compare`, :class:`InList`, :class:`IsNull`,
:class:`Between`, :class:`Contains`, :class:`BoolField`), a behavioural test over the behaviour
tables (:class:`Ordered`, :class:`NoOrderFor`, :class:`EventOccurred`, :class:`Owns`), or a
combination (:class:`And`, :class:`Or` with two or more items, :class:`Not`). The tree keeps the
grouping that was written: ``(a and b) and c`` is ``And((And((a, b)), c))``, ``a and b and c`` is
``And((a, b, c))``, so both spellings round-trip exactly.

Values are Python scalars (``str``, ``int``, ``float``, ``bool``, ``date``, a UTC ``datetime``)
or :class:`Now` (the evaluation time plus a signed offset). Behavioural functions are described
once in :data:`FUNCTIONS` (their parameters, which ones may be positional, their defaults), and
both parsers and both renderers read that table.

>>> Duration(90 * 86400).text
'90 days'
>>> Now(-2 * 3600).text
'now - 2 hours'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Literal

from aftersales.core.errors import ValidationError

__all__ = [
    "COMPARE_OPS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "UNITS",
    "And",
    "Behaviour",
    "Between",
    "BoolField",
    "Compare",
    "CompareOp",
    "Condition",
    "Contains",
    "Duration",
    "EventOccurred",
    "Function",
    "InList",
    "IsNull",
    "NoOrderFor",
    "Not",
    "Now",
    "Or",
    "Ordered",
    "Owns",
    "Param",
    "Scalar",
    "Value",
    "behaviour_args",
]

# Deepest nesting of not / groups either parser accepts: far beyond any real segment, far below
# Python's recursion limit (so a hostile definition is a 422, not a crash).
MAX_DEPTH = 64

CompareOp = Literal["=", "!=", "<", "<=", ">", ">="]
COMPARE_OPS: tuple[CompareOp, ...] = ("=", "!=", "<", "<=", ">", ">=")

# Duration units, largest first; a duration renders in the largest unit that divides it exactly
# (weeks are accepted on input but render as days: "14 days" reads better than "2 weeks" in retention work).
UNITS: tuple[tuple[str, int], ...] = (("days", 86400), ("hours", 3600), ("minutes", 60), ("seconds", 1))
UNIT_SECONDS: dict[str, int] = {"weeks": 7 * 86400, **dict(UNITS)}


def _render_amount(seconds: int) -> tuple[int, str]:
    for unit, size in UNITS:
        if seconds % size == 0:
            return seconds // size, unit
    raise AssertionError("seconds divide every amount")  # pragma: no cover


@dataclass(frozen=True)
class Duration:
    """A positive length of time in whole seconds (``90 days`` is 7,776,000)."""

    seconds: int
    # The contract's time stamps span 300 years (1900-2199); no window or offset needs to be longer.
    LIMIT: ClassVar[int] = 300 * 366 * 86400

    def __post_init__(self) -> None:
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, int) or not 0 < self.seconds <= self.LIMIT:
            raise ValidationError(f"a duration must be 1 second to 300 years in whole seconds, not {self.seconds!r}")

    @property
    def amount_unit(self) -> tuple[int, str]:
        """``(amount, unit)`` in the largest unit that divides it: ``(90, 'days')``."""
        return _render_amount(self.seconds)

    @property
    def text(self) -> str:
        amount, unit = self.amount_unit
        return f"{amount} {unit[:-1] if amount == 1 else unit}"


@dataclass(frozen=True)
class Now:
    """The evaluation time (``now`` passed to the compiler) plus ``offset_seconds`` (negative: the past)."""

    offset_seconds: int = 0

    def __post_init__(self) -> None:
        off = self.offset_seconds
        if isinstance(off, bool) or not isinstance(off, int) or abs(off) > Duration.LIMIT:
            raise ValidationError(f"a time offset must be whole seconds up to 300 years, not {off!r}")

    @property
    def text(self) -> str:
        if self.offset_seconds == 0:
            return "now"
        sign = "-" if self.offset_seconds < 0 else "+"
        return f"now {sign} {Duration(abs(self.offset_seconds)).text}"


Scalar = str | int | float | bool | date | datetime
Value = Scalar | Now


def _check_value(value: object) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"numbers must be finite, not {value!r}")
    if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() != UTC.utcoffset(None)):
        raise ValidationError(f"time stamps in a condition must be in UTC, not {value.isoformat()}")
    if not isinstance(value, str | int | float | bool | date | Now):
        raise ValidationError(f"unsupported value {value!r}")


@dataclass(frozen=True)
class Compare:
    """``field op value``."""

    field: str
    op: CompareOp
    value: Value

    def __post_init__(self) -> None:
        if self.op not in COMPARE_OPS:
            raise ValidationError(f"unknown comparison {self.op!r}; use one of {', '.join(COMPARE_OPS)}")
        _check_value(self.value)


@dataclass(frozen=True)
class InList:
    """``field in (v1, v2, ...)``, or ``not in`` when ``negated``."""

    field: str
    values: tuple[Value, ...]
    negated: bool = False

    def __post_init__(self) -> None:
        if not self.values:
            raise ValidationError("'in' needs at least one value")
        for v in self.values:
            _check_value(v)


@dataclass(frozen=True)
class IsNull:
    """``field is null``, or ``is not null`` when ``negated``."""

    field: str
    negated: bool = False


@dataclass(frozen=True)
class Between:
    """``field between low and high`` (both ends included), or ``not between`` when ``negated``."""

    field: str
    low: Value
    high: Value
    negated: bool = False

    def __post_init__(self) -> None:
        _check_value(self.low)
        _check_value(self.high)


@dataclass(frozen=True)
class Contains:
    """``field contains 'x'``: a list field (``categories_bought``) holds the value."""

    field: str
    value: str


@dataclass(frozen=True)
class BoolField:
    """A bare boolean field: ``email_consent``."""

    field: str


@dataclass(frozen=True)
class And:
    """All of two or more conditions."""

    items: tuple[Condition, ...]

    def __post_init__(self) -> None:
        if len(self.items) < 2:
            raise ValidationError("'and' joins two or more conditions")


@dataclass(frozen=True)
class Or:
    """Any of two or more conditions."""

    items: tuple[Condition, ...]

    def __post_init__(self) -> None:
        if len(self.items) < 2:
            raise ValidationError("'or' joins two or more conditions")


@dataclass(frozen=True)
class Not:
    """The negation of a condition."""

    item: Condition


@dataclass(frozen=True)
class Ordered:
    """``ordered(category = 'X', product = 'P', within = 90 days, at_least = 2)``: every argument optional.

    At least ``at_least`` counted orders (returned and cancelled ones excluded) in ``(now - within, now]``
    (or ever, up to ``now``, without ``within``), holding a line of ``product`` / of a product in
    ``category`` when given.
    """

    category: str | None = None
    product: str | None = None
    within: Duration | None = None
    at_least: int = 1

    def __post_init__(self) -> None:
        _check_count(self.at_least)


@dataclass(frozen=True)
class NoOrderFor:
    """``no_order_for(120 days)``: no counted order in ``(now - duration, now]``; ``not ordered(within = ...)``."""

    duration: Duration


@dataclass(frozen=True)
class EventOccurred:
    """``event('checkout_started', within = 7 days, at_least = 1)``: that many events of the name in the window."""

    name: str
    within: Duration | None = None
    at_least: int = 1

    def __post_init__(self) -> None:
        _check_count(self.at_least)


@dataclass(frozen=True)
class Owns:
    """``owns('P123')``: the customer registered product ``P123`` by ``now``."""

    product: str


def _check_count(n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValidationError(f"at_least must be a whole number of 1 or more, not {n!r}")


Behaviour = Ordered | NoOrderFor | EventOccurred | Owns
Condition = Compare | InList | IsNull | Between | Contains | BoolField | And | Or | Not | Behaviour

ParamKind = Literal["text", "duration", "count"]


@dataclass(frozen=True)
class Param:
    """One parameter of a behavioural function; its name is the node's attribute name."""

    name: str
    kind: ParamKind
    required: bool = False
    default: object = None


@dataclass(frozen=True)
class Function:
    """A behavioural function: its name in both spellings, its node class and its parameters.

    The first ``positional`` parameters may be (and are rendered) positional: ``event('x', within = 7 days)``.
    """

    name: str
    node: type[Behaviour]
    params: tuple[Param, ...]
    positional: int = 0

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def build(self, args: dict[str, Any]) -> Behaviour:
        """The node from ``{param: value}`` (missing optional ones take their default); checks each value's kind."""
        for name, value in args.items():
            param = self.param(name)
            kind = _KINDS[param.kind] if param else None
            if kind is None or isinstance(value, bool) or not isinstance(value, kind):
                raise ValidationError(f"{self.name}() cannot take {name} = {value!r}")
        return self.node(**args)


_KINDS: dict[ParamKind, type] = {"text": str, "duration": Duration, "count": int}

FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function(
            "ordered",
            Ordered,
            (
                Param("category", "text"),
                Param("product", "text"),
                Param("within", "duration"),
                Param("at_least", "count", default=1),
            ),
        ),
        Function("no_order_for", NoOrderFor, (Param("duration", "duration", required=True),), positional=1),
        Function(
            "event",
            EventOccurred,
            (Param("name", "text", required=True), Param("within", "duration"), Param("at_least", "count", default=1)),
            positional=1,
        ),
        Function("owns", Owns, (Param("product", "text", required=True),), positional=1),
    )
}
_BY_NODE: dict[type, Function] = {f.node: f for f in FUNCTIONS.values()}


def behaviour_args(node: Behaviour) -> tuple[Function, list[tuple[Param, object]]]:
    """The function of ``node`` and its non-default arguments in parameter order (what a renderer writes).

    >>> fn, args = behaviour_args(Ordered(category="bikes", within=Duration(86400)))
    >>> fn.name, [(p.name, v) for p, v in args]
    ('ordered', [('category', 'bikes'), ('within', Duration(seconds=86400))])
    """
    fn = _BY_NODE[type(node)]
    values = {f.name: getattr(node, f.name) for f in fields(node)}
    return fn, [(p, values[p.name]) for p in fn.params if p.required or values[p.name] != p.default]
