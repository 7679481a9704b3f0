"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.api.deps import loaded_vision, vision_unavailable_reason

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready: `checks` says which part is missing"}})
def readyz(request: Request) -> JSONResponse:
    """Ready for traffic: the emotion model is loaded and the feed store is open."""
    model_loaded = loaded_vision(request.app) is not None
    checks = {"model": model_loaded, "feed_store": request.app.state.news.started}
    ready = all(checks.values())
    body: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": checks}
    if not model_loaded:
        body["detail"] = vision_unavailable_reason(request.app)
    return JSONResponse(body, status_code=200 if ready else 503)
