"""Request and response models, derived from the data contract so the API and the store agree.

Every input model forbids unknown fields; time stamps must carry a zone (they are converted to UTC);
money is exact (a decimal with at most 2 places, returned as a string such as ``"19.90"``); text may
not contain NUL characters (PostgreSQL cannot store them).

JSON types are not coerced where a coercion would store something the client did not mean, as
``POST /v1/events`` already refuses them: a time stamp or date must be a string (pydantic would read
``1700000000`` as seconds since 1970 and store 2023-11-14), an integer must be a JSON integer
(``false`` would be stored as 0, ``"3"`` or ``3.0`` as 3) and a boolean a JSON boolean (not ``1`` or
``"yes"``). Integers and booleans use pydantic's strict mode; strict dates and times would refuse
strings too (FastAPI validates the decoded JSON in Python mode), so those refuse non-strings first.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from types import GenericAlias
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, Strict, create_model
from pydantic_core import PydanticCustomError

from aftersales.core import contract
from aftersales.core.contract import contract_utc
from aftersales.services.operational.resources import RESOURCES, Resource
from aftersales.services.operational.webhooks import EVENT_TYPES

__all__ = [
    "KEY_PATTERN",
    "IngestOut",
    "PageCursor",
    "PageLimit",
    "Problem",
    "ResourceModels",
    "resource_models",
]

MAX_TEXT = contract.MAX_TEXT_LENGTH
KEY_PATTERN = r"^[^/\x00-\x1f\x7f]+$"
INT64_MAX = 2**63 - 1


# Query parameters of every list route; a cursor the API did not issue is a 400 (services.resources).
PageLimit = Annotated[int, Query(ge=1, le=1000)]
PageCursor = Annotated[
    str | None, Query(max_length=2000, description="`next_cursor` of the previous page, as received.")
]

Text = Annotated[str, Field(max_length=MAX_TEXT, pattern=r"^[^\x00]*$")]
KeyText = Annotated[str, Field(min_length=1, max_length=contract.MAX_KEY_LENGTH, pattern=KEY_PATTERN)]


def _text_only(value: Any) -> Any:
    """Refuse a time stamp or date that is not a string (a number would be read as epoch seconds)."""
    if isinstance(value, str | datetime | date):
        return value
    raise ValueError("must be an ISO 8601 string, e.g. 2024-03-01T10:00:00+01:00 or 2024-03-01")


UtcDateTime = Annotated[AwareDatetime, BeforeValidator(_text_only), AfterValidator(contract_utc)]
TextDate = Annotated[date, BeforeValidator(_text_only)]
StrictBool = Annotated[bool, Strict()]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """An RFC 9457 problem document; validation problems list each invalid field in ``errors``."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldProblem] | None = None


class FieldProblem(BaseModel):
    loc: list[str | int]
    message: str


# Why a formatted text is refused, without echoing the value (the importer's reasons name it).
_FORMAT_PROBLEMS: dict[contract.TextFormat, str] = {
    "timezone": "not a known IANA time zone (e.g. Europe/Berlin)",
    "locale": "not a known locale (a language, optionally a territory: en, en_US, de-CH)",
}


def _formatted(text_format: contract.TextFormat) -> Any:
    """Text of a form (a time zone, a locale), stored in its normal form as the importers store it."""

    def normal(value: str) -> str:
        try:
            return contract.normalise_text(text_format, value)
        except ValueError:
            raise PydanticCustomError(text_format, _FORMAT_PROBLEMS[text_format]) from None

    return Annotated[str, Field(max_length=contract.MAX_KEY_LENGTH), AfterValidator(normal)]


def _type(col: contract.Column, key: bool) -> Any:
    if col.choices:
        return Literal[col.choices]
    if col.text_format is not None:
        return _formatted(col.text_format)
    if col.type == "string":
        return KeyText if key or col.references else Text
    if col.type == "int":
        floor = int(col.minimum) if col.minimum is not None else -INT64_MAX
        return Annotated[int, Strict(), Field(ge=floor, le=INT64_MAX)]
    if col.type == "money":
        lo = col.minimum if col.minimum is not None else -contract.MONEY_LIMIT
        return Annotated[
            Decimal, Field(ge=lo, lt=contract.MONEY_LIMIT, max_digits=18, decimal_places=2, allow_inf_nan=False)
        ]
    if col.type == "timestamp":
        return UtcDateTime
    return {"bool": StrictBool, "date": TextDate, "json": dict[str, Any]}[col.type]


def _out_type(col: contract.Column) -> Any:
    return {"money": Decimal, "timestamp": datetime, "date": date, "int": int, "bool": bool}.get(col.type, str)


def _name(table: str) -> str:
    return "".join(p.capitalize() for p in table.split("_"))


class ResourceModels:
    """The create, update, output and page models of one resource."""

    def __init__(self, res: Resource) -> None:
        spec = res.spec
        key = set(spec.key)
        line_fields: dict[str, Any] = {}
        line_out: dict[str, Any] = {}
        if res.lines:
            lines = contract.get_table(res.lines)
            parent_key = {c for c in lines.key if c in key}
            line_in = _model(
                f"{_name(res.lines)[:-1]}In",
                {c.name: _field(c, c.name in lines.key) for c in lines.columns if c.name not in parent_key},
                strict=True,
            )
            line_model = _model(f"{_name(res.lines)[:-1]}", {c.name: _out(c, lines) for c in lines.columns})
            line_fields = {"lines": (_list_of(line_in) | None, Field(default=None, max_length=1000))}
            line_out = {"lines": (_list_of(line_model), ...)}
        singular = _name(spec.name)[:-1] if spec.name.endswith("s") else _name(spec.name)
        self.create = _model(
            f"{singular}Create",
            {**{c.name: _field(c, c.name in key) for c in spec.columns}, **line_fields},
            strict=True,
        )
        self.update = _model(
            f"{singular}Update",
            {**{c.name: _update_field(c) for c in spec.columns if c.name not in key}, **line_fields},
            strict=True,
        )
        self.out = _model(singular, {**{c.name: _out(c, spec) for c in spec.columns}, **line_out})
        self.page = _model(f"{singular}Page", {"items": (_list_of(self.out), ...), "next_cursor": (str | None, None)})


def _model(name: str, fields: dict[str, Any], *, strict: bool = False) -> type[BaseModel]:
    """A model built at run time from the contract; ``strict`` models refuse unknown fields.

    The field definitions are (type, FieldInfo) pairs whose types exist only at run time, so they are
    ``Any`` to the checker; passed as one ``**fields``, they match pydantic's ``**field_definitions``.
    """
    if strict:
        return create_model(name, __base__=_Strict, **fields)
    return create_model(name, **fields)


def _list_of(item: type[BaseModel]) -> GenericAlias:
    """``list[item]`` for a model built at run time (the subscript form needs a type known to the checker)."""
    return GenericAlias(list, (item,))


def _field(col: contract.Column, key: bool) -> tuple[Any, Any]:
    t = _type(col, key)
    if (key or col.required) and col.default is None:
        return (t, Field(description=col.description))
    if key or col.required:
        return (t, Field(default=col.default, description=col.description))
    return (t | None, Field(default=None, description=col.description))


def _update_field(col: contract.Column) -> tuple[Any, Any]:
    """Omitted: unchanged. ``null`` clears an optional field; a required one cannot be cleared."""
    t = _type(col, False)
    return (t if col.required else t | None, Field(default=None, description=col.description))


def _out(col: contract.Column, table: contract.Table) -> tuple[Any, Any]:
    t = _out_type(col)
    if col.type == "json":
        t = str
    if col.required or col.name in table.key:
        return (t, Field(description=col.description))
    return (t | None, Field(default=None, description=col.description))


def resource_models() -> dict[str, ResourceModels]:
    return {path: ResourceModels(res) for path, res in RESOURCES.items()}


class IngestOut(BaseModel):
    """The answer to ``POST /v1/events`` (its request body is validated by msgspec: ``events_codec.py``)."""

    received: int
    inserted: int
    duplicates: int


if TYPE_CHECKING:
    EventType = str  # what the checker can know: the Literal below is built at run time from core's list
else:
    EventType = Literal[(*EVENT_TYPES, "*")]


class SubscriptionIn(_Strict):
    url: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^https?://[^\x00-\x20]+$")]
    event_types: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES) + 1)
    description: Text | None = None


class SubscriptionOut(BaseModel):
    subscription_id: str
    url: str
    event_types: list[str]
    active: bool
    description: str | None
    created_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="Signing secret, shown only now: verify Aftersales-Signature with it.")


class SubscriptionPage(BaseModel):
    items: list[SubscriptionOut]
    next_cursor: str | None


class AttemptOut(BaseModel):
    attempt_number: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    delivery_id: str
    subscription_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempt_count: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None


class DeliveryDetail(DeliveryOut):
    payload: str
    attempts: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


Problem.model_rebuild()
