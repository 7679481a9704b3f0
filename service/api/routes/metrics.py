"""Prometheus scrape endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
def metrics() -> Response:
    """Every metric of this process (request and inference latency, streams, feeds, memory) in text format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
