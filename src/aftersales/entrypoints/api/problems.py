"""RFC 9457 problem responses: the one place that maps errors to HTTP.

``core.errors`` carries each error's status (``http_status``) and title; validation errors list each
invalid field as ``{"loc": [...], "message": ...}``. Input values are never echoed back (they may hold
PII). Problem types are ``https://aftersales.dev/problems/<slug>`` (see docs/api.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from aftersales.core.errors import AftersalesError, FieldError, ValidationError

__all__ = ["PROBLEM_JSON", "install_handlers", "located", "problem_body", "problem_response"]

PROBLEM_JSON = "application/problem+json"


def _slug(title: str) -> str:
    return "-".join(title.lower().split())


def problem_body(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    instance: str | None = None,
    errors: Sequence[FieldError] | None = None,
) -> bytes:
    title = title or HTTPStatus(status).phrase
    doc: dict[str, Any] = {"type": f"https://aftersales.dev/problems/{_slug(title)}", "title": title, "status": status}
    if detail:
        doc["detail"] = detail
    if instance:
        doc["instance"] = instance
    if errors is not None:
        doc["errors"] = [{"loc": list(e.loc), "message": e.message} for e in errors]
    return json.dumps(doc, separators=(",", ":")).encode()


def located(exc: ValidationError, where: str) -> ValidationError:
    """``exc`` with each field error located under ``where`` (``"body"``, ``"query"``): a service names
    a document's own paths (``steps/2/duration``), the API answers with the request's
    (``["body", "steps", 2, "duration"]``). The error keeps its class (a segment's DefinitionError stays one)."""
    errors = [FieldError((where, *e.loc), e.message) for e in exc.errors] or [FieldError((where,), str(exc))]
    return type(exc)(str(exc), errors)


def problem_response(status: int, detail: str | None = None, **kw: Any) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(problem_body(status, detail, **kw), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def error_response(exc: AftersalesError, instance: str | None = None) -> Response:
    """The problem response of a deliberate error from the core tree."""
    errors = exc.errors if isinstance(exc, ValidationError) else None
    return problem_response(exc.http_status, str(exc), title=exc.title, instance=instance, errors=errors)


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    return [FieldError(tuple(e.get("loc", ())), e.get("msg", "invalid")) for e in exc.errors()]


def install_handlers(app: FastAPI) -> None:
    async def aftersales_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AftersalesError)
        return error_response(exc, request.url.path)

    async def request_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = _field_errors(exc)
        return problem_response(
            422, f"{len(errors)} invalid field(s)", title="Validation failed", instance=request.url.path, errors=errors
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return problem_response(exc.status_code, str(exc.detail), instance=request.url.path)

    app.add_exception_handler(AftersalesError, aftersales_error)
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    # Other exceptions: middleware.ServerErrorMiddleware answers 500 without dropping the connection.
