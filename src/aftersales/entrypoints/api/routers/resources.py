"""Create, update, read and list every resource of ``services/operational/resources.py``, one router each.

The routes are built from the resource table (same code for customers, orders, tickets, ...): the
path parameters are the table's key columns, the bodies the models derived from the contract.
"""

import inspect
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from aftersales.entrypoints.api.deps import get_uow, require_scope
from aftersales.entrypoints.api.schemas import KEY_PATTERN, PageCursor, PageLimit, ResourceModels
from aftersales.services.operational import resources
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["resource_router"]

KeyParam = Annotated[str, Path(min_length=1, max_length=255, pattern=KEY_PATTERN)]


def _key_dependency(key: tuple[str, ...]) -> Any:
    def key_values(**values: str) -> dict[str, str]:
        return values

    params = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, annotation=KeyParam) for k in key]
    # inspect.signature (and so FastAPI) honours __signature__, which typeshed's functions do not declare
    key_values.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return key_values


def resource_router(path: str, models: ResourceModels) -> APIRouter:
    res = resources.RESOURCES[path]
    key = res.spec.key
    item = "/" + "/".join(f"{{{k}}}" for k in key)
    Key = _key_dependency(key)
    Create, Update, Out, Page = models.create, models.update, models.out, models.page
    has_customer = "customer_id" in res.spec.column_names and "customer_id" not in key
    router = APIRouter(prefix=f"/v1/{path}", tags=[path])
    writer = [Depends(require_scope("ingest"))]
    reader = [Depends(require_scope("read"))]

    def create(body: BaseModel, uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
        return resources.create(uow, path, body.model_dump())

    def update(body: BaseModel, k: dict[str, str] = Depends(Key), uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
        return resources.update(uow, path, k, body.model_dump(exclude_unset=True))

    # The bodies' models are built at run time from the contract, so they cannot be written as the
    # annotations above (the checker needs a static type): FastAPI reads them from __annotations__.
    create.__annotations__["body"], update.__annotations__["body"] = Create, Update
    router.post("", status_code=201, response_model=Out, dependencies=writer, summary=f"Create a {path} row")(create)
    router.patch(item, response_model=Out, dependencies=writer, summary=f"Update a {path} row")(update)

    @router.get(item, response_model=Out, dependencies=reader, summary=f"Read a {path} row")
    def read(k: dict[str, str] = Depends(Key), uow: UnitOfWorkFactory = Depends(get_uow)) -> Any:
        return resources.get(uow, path, k)

    @router.get("", response_model=Page, dependencies=reader, summary=f"List {path} (cursor pagination)")
    def list_(
        limit: PageLimit = 100,
        cursor: PageCursor = None,
        customer_id: Annotated[
            str | None, Query(min_length=1, max_length=255, pattern=KEY_PATTERN, include_in_schema=has_customer)
        ] = None,
        uow: UnitOfWorkFactory = Depends(get_uow),
    ) -> Any:
        where = {"customer_id": customer_id} if has_customer and customer_id is not None else None
        page = resources.list_page(uow, path, limit=limit, cursor=cursor, where=where)
        return {"items": page.items, "next_cursor": page.next_cursor}

    return router
