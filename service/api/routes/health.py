"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.news.feed import NewsFeed

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


def feed_store_open(news: NewsFeed) -> bool:
    try:
        news.store  # noqa: B018 (the property raises until the app's startup has opened the store)
    except RuntimeError:
        return False
    return True


@router.get("/readyz", responses={503: {"description": "Not ready yet: see which check failed"}})
def readyz(request: Request) -> JSONResponse:
    """Ready for traffic: the feed store is open (the app's startup has run)."""
    checks = {"feed_store": feed_store_open(request.app.state.news)}
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )
