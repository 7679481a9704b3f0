"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.api.deps import NewsDep, loaded_vision, vision_unavailable_reason
from service.api.schemas import DECIMALS

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready: `checks` says which part is missing"}})
def readyz(request: Request, news: NewsDep) -> JSONResponse:
    """Ready for traffic: the emotion model is loaded and the feed store is open.

    `inference.path` says which session serves the model on this CPU: `optimised` (the fused int8 kernels,
    checked against the exact reference at load) or `reference` (they disagreed, so the slower exact one),
    with how far apart they were on the probe faces: the largest probability difference, and the share of
    faces both gave the same emotion.
    """
    vision = loaded_vision(request.app)
    checks = {"model": vision is not None, "feed_store": news.started}
    ready = all(checks.values())
    body: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": checks}
    if vision is None:
        body["detail"] = vision_unavailable_reason(request.app)
    else:
        kernels = vision.engine.classifier.kernel_check
        body["inference"] = {
            "path": kernels.path,
            "cpu": kernels.cpu,
            "max_probability_difference": round(kernels.max_probability_difference, 6),
            "argmax_agreement": round(kernels.argmax_agreement, DECIMALS),
        }
    return JSONResponse(body, status_code=200 if ready else 503)
