"""Route dependencies: the service plane of the running app, and the scope check (403)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from aftersales.services.api_keys import AuthenticationError, Principal, require
from aftersales.services.ports import UnitOfWorkFactory

__all__ = ["get_uow", "require_scope"]

_bearer = HTTPBearer(auto_error=False, description="An API key from `aftersales keys create --scope ...`.")


def get_uow(request: Request) -> UnitOfWorkFactory:
    return request.app.state.plane.uow


def require_scope(scope: str) -> Callable[..., Principal]:
    """A dependency that needs a key allowing ``scope`` (authentication already ran in middleware)."""

    def check(request: Request, _: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
        principal = getattr(request.state, "principal", None)
        if principal is None:
            raise AuthenticationError("an API key is required (Authorization: Bearer <key>)")
        require(principal, scope)
        return principal

    return check
