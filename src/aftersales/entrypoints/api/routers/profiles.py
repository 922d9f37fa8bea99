"""``GET /v1/customers/{customer_id}/profile``: one customer's stored profile (read scope).

The profile is the row ``aftersales refresh`` last wrote (``services.analytical.profiles``); a
customer without one is a 404 problem. The response model is derived from the profile catalogue
(``core.segments.fields.PROFILE_FIELDS``), so the OpenAPI schema lists every field with its type.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, create_model

from aftersales.core.segments.fields import PROFILE_FIELDS, FieldType
from aftersales.entrypoints.api.deps import get_uow, require_scope
from aftersales.entrypoints.api.schemas import KEY_PATTERN
from aftersales.services.analytical import profiles
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["ProfileOut", "router"]

router = APIRouter(prefix="/v1", tags=["profiles"])

_PY: dict[FieldType, Any] = {
    "int": int,
    "float": float,
    "text": str,
    "bool": bool,
    "timestamp": datetime,
    "date": date,
    "text_list": list[str],
}
_fields: dict[str, Any] = {
    f.name: (_PY[f.type] if f.name == "customer_id" else _PY[f.type] | None, ...) for f in PROFILE_FIELDS
}
ProfileOut: type[BaseModel] = create_model(
    "ProfileOut",
    __doc__="A customer's profile as of the last refresh (docs/profiles.md describes every field).",
    **_fields,
    refreshed_at=(datetime, ...),
    predictive_note=(str | None, ...),
)


@router.get(
    "/customers/{customer_id}/profile",
    response_model=ProfileOut,
    dependencies=[Depends(require_scope("read"))],
    summary="A customer's profile",
)
def customer_profile(
    customer_id: Annotated[str, Path(min_length=1, max_length=255, pattern=KEY_PATTERN)],
    uow: UnitOfWorkFactory = Depends(get_uow),
) -> Any:
    """The customer's profile from the last `aftersales refresh` (404 when none was written)."""
    return profiles.customer_profile(uow, customer_id)
