"""Route dependencies: the service plane of the running app, and the scope check (403).

Both are ``async def`` although they do no I/O: FastAPI runs a plain ``def`` dependency in the
threadpool, a hand-off to a worker thread and back on every request for work of a few microseconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from aftersales.services.operational.api_keys import AuthenticationError, Principal, require
from aftersales.services.ports import UnitOfWorkFactory

if TYPE_CHECKING:
    from aftersales.bootstrap import ServicePlane

__all__ = ["get_uow", "require_scope"]

_bearer = HTTPBearer(auto_error=False, description="An API key from `aftersales keys create --scope ...`.")


async def get_uow(request: Request) -> UnitOfWorkFactory:
    plane: ServicePlane = request.app.state.plane  # set by create_app; Starlette's State is untyped
    return plane.uow


def require_scope(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that needs a key allowing ``scope`` (authentication already ran in middleware)."""

    async def check(request: Request, _: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
        principal: Principal | None = getattr(request.state, "principal", None)  # set by the auth middleware
        if principal is None:
            raise AuthenticationError("an API key is required (Authorization: Bearer <key>)")
        require(principal, scope)
        return principal

    return check
