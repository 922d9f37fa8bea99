"""The FastAPI application factory: ``create_app(settings)``.

Routes live in ``routers/``; errors become RFC 9457 problems in ``problems.py``; authentication,
idempotency, the body limit, server errors and the access log are ASGI middleware (``middleware.py``).
The store and webhook dispatcher come from ``bootstrap.service_plane``.

The interactive docs (Swagger UI at ``/docs``, ReDoc at ``/redoc``) load their scripts and styles
from this server (the ``fastapi-offline`` package's copies, under ``/static-offline-docs``), not from
a CDN, so they work on a machine without internet; ``/`` redirects to ``/docs``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi_offline import FastAPIOffline
from starlette.responses import RedirectResponse

from aftersales import __version__, bootstrap
from aftersales.config import Settings
from aftersales.entrypoints.api import events_codec
from aftersales.entrypoints.api.middleware import (
    AccessLogMiddleware,
    AuthMiddleware,
    BodyLimitMiddleware,
    IdempotencyMiddleware,
    ServerErrorMiddleware,
)
from aftersales.entrypoints.api.problems import PROBLEM_JSON, install_handlers
from aftersales.entrypoints.api.routers import (
    analytics,
    enrollments,
    events,
    health,
    journey_reports,
    profiles,
    segments,
    webhooks,
)
from aftersales.entrypoints.api.routers import journeys as journey_routes
from aftersales.entrypoints.api.routers import loyalty as loyalty_routes
from aftersales.entrypoints.api.routers import messages as message_routes
from aftersales.entrypoints.api.routers import surveys as survey_routes
from aftersales.entrypoints.api.routers.resources import resource_router
from aftersales.entrypoints.api.schemas import Problem, resource_models
from aftersales.entrypoints.web import pages as web_pages
from aftersales.entrypoints.web import surveys as web_surveys
from aftersales.services.operational import idempotency
from aftersales.services.operational.webhooks import RetryPolicy

__all__ = ["ApiOptions", "create_app"]

_PROBLEM_STATUSES = {
    "400": "Unusable input (bad cursor, bad Idempotency-Key)",
    "401": "No API key, or an unknown or revoked one",
    "403": "The API key's scope does not allow this",
    "404": "Not found",
    "405": "Method not allowed",
    "409": "Conflict (the key exists, or an identical request is still in progress)",
    "413": "Request body too large",
    "422": "Validation failed (field-level errors in `errors`)",
}


@dataclass(frozen=True)
class ApiOptions:
    max_body_bytes: int = 8 * 1024 * 1024
    idempotency_wait_s: float = 30.0
    idempotency_stale_s: float = idempotency.STALE_AFTER_S
    idempotency_heartbeat_s: float = idempotency.HEARTBEAT_S
    webhook_retry: RetryPolicy = field(default_factory=RetryPolicy)
    webhook_poll_s: float = 0.5
    webhook_timeout_s: float = 10.0
    migrate: bool = False
    journey_worker: bool = False
    """Run a journey worker beside the API (``aftersales serve`` does unless ``--no-worker``)."""


def create_app(
    settings: Settings, *, options: ApiOptions | None = None, plane: bootstrap.ServicePlane | None = None
) -> FastAPI:
    """The API on the store ``settings.database_url`` (or on a ready-made ``plane``)."""
    opts = options or ApiOptions()
    owned = plane is None
    plane = plane or bootstrap.service_plane(
        settings.database_url,
        retry=opts.webhook_retry,
        webhook_poll_s=opts.webhook_poll_s,
        webhook_timeout_s=opts.webhook_timeout_s,
        migrate=opts.migrate,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        plane.dispatcher.start()
        worker = _journey_worker(plane, settings) if opts.journey_worker else None
        try:
            yield
        finally:
            if worker is not None:
                worker.worker.stop()
                worker.close()
            if owned:
                plane.close()
            else:
                plane.dispatcher.stop()

    app = FastAPIOffline(
        title="aftersales API",
        version=__version__,
        description="Events in, scores out: the operational API of aftersales (docs/api.md).",
        lifespan=lifespan,
    )
    app.state.plane = plane
    install_handlers(app)
    app.add_api_route("/", _to_docs, include_in_schema=False)
    app.include_router(health.router)
    app.include_router(events.router)
    for path, models in resource_models().items():
        app.include_router(resource_router(path, models))
    app.include_router(webhooks.router)
    app.include_router(analytics.router)
    app.include_router(profiles.router)
    app.include_router(segments.router)
    app.include_router(message_routes.router)
    app.include_router(journey_routes.router)
    app.include_router(journey_reports.router)
    app.include_router(enrollments.router)
    app.include_router(loyalty_routes.router)
    app.include_router(survey_routes.router)
    # Added innermost first: the access log wraps everything.
    app.add_middleware(
        IdempotencyMiddleware,
        uow=plane.uow,
        wait_s=opts.idempotency_wait_s,
        stale_s=opts.idempotency_stale_s,
        heartbeat_s=opts.idempotency_heartbeat_s,
    )
    app.add_middleware(AuthMiddleware, uow=plane.uow)
    app.add_middleware(web_pages.PublicPages, pages=web_pages.pages_app(plane.uow, _link_signer(plane, settings)))
    app.state.survey_links = _survey_links(plane, settings)
    survey_pages = web_surveys.survey_pages_app(plane.uow, app.state.survey_links)
    app.add_middleware(web_surveys.SurveyPages, pages=survey_pages)
    app.add_middleware(BodyLimitMiddleware, max_body=opts.max_body_bytes)
    app.add_middleware(ServerErrorMiddleware)
    app.add_middleware(AccessLogMiddleware)
    # FastAPI's documented way to extend the schema is to replace this method; mypy refuses method assignment
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _link_signer(plane: bootstrap.ServicePlane, settings: Settings) -> Any:
    """The e-mail link signer, made on first use (the generated key lives in the store)."""
    from aftersales.bootstrap.delivery import link_signer

    return lambda: link_signer(plane.uow, settings)


def _survey_links(plane: bootstrap.ServicePlane, settings: Settings) -> Any:
    """The survey link signer, made on first use (the same key as the e-mail links)."""
    from aftersales.bootstrap.surveys import survey_links

    return lambda: survey_links(plane.uow, settings)


def _journey_worker(plane: bootstrap.ServicePlane, settings: Settings) -> Any:
    """The embedded journey worker, started in its own thread (bootstrap/journeys.py)."""
    from aftersales.bootstrap.journeys import embedded_worker

    handle = embedded_worker(plane, settings)
    handle.worker.start()
    return handle


async def _to_docs(request: Request) -> RedirectResponse:
    """No web app yet: the root shows the interactive API docs."""
    return RedirectResponse(f"{request.scope.get('root_path', '')}/docs", status_code=307)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with every error documented as an RFC 9457 problem."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    comps.update(problem.pop("$defs", {}))
    comps["Problem"] = problem
    comps.update(events_codec.openapi_components())  # POST /v1/events is validated by msgspec
    comps.pop("HTTPValidationError", None)
    comps.pop("ValidationError", None)
    ref = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, ops in schema.get("paths", {}).items():
        for op in ops.values():
            responses = op.setdefault("responses", {})
            if path.startswith("/v1"):
                for status, text in _PROBLEM_STATUSES.items():
                    responses[status] = {"description": text, "content": ref}
            elif "503" in responses:
                responses["503"] = {"description": "Not ready", "content": ref}
    app.openapi_schema = schema
    return schema
