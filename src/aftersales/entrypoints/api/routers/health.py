"""Liveness (``/healthz``) and readiness (``/readyz``: the store answers and is migrated)."""

from __future__ import annotations

from anyio import to_thread
from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from aftersales.entrypoints.api.problems import problem_response

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up (no dependency is checked)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"description": "Not ready"}})
async def readyz(request: Request) -> Health | Response:
    """The store answers and is at the latest migration; 503 with the reason otherwise."""
    problem = await to_thread.run_sync(request.app.state.plane.ready)
    if problem:
        return problem_response(503, problem)
    return Health(status="ready")
