"""Assemble the FastAPI app: settings, shared resources, and the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service.api.middleware import install_middleware
from service.api.routes import health, metrics
from service.config import Settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open what the routes share (model, feed store) once, and close it on shutdown."""
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="moodfeed", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings or Settings()
    app.include_router(health.router)
    app.include_router(metrics.router)
    install_middleware(app, app.state.settings)
    return app
