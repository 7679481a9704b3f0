"""Assemble the FastAPI app: settings, shared resources, and the routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from service.api.middleware import install_middleware
from service.api.routes import analyze, docs, feed, health, metrics, page, predict, stream
from service.api.shares import ClientShares
from service.api.uploads import UploadAborted
from service.api.vision import Vision
from service.config import Settings
from service.news.affect import LexiconError
from service.news.feed import NewsFeed
from service.news.store import FeedStoreError
from service.observability import UPLOADS_ABORTED, count_feed_fetch
from service.vision.errors import ModelError

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open what the routes share (model, feed store) once, and close it on shutdown."""
    try:
        app.state.vision = await Vision.open(app.state.settings)
    except ModelError as error:  # the page and the feed still work; /predict and /ws/stream say why not
        app.state.vision_error = str(error)
        log.error("emotion recognition is unavailable: %s", error)
    try:
        await app.state.news.start()
    except (FeedStoreError, LexiconError) as error:  # said in one line, before uvicorn's traceback
        log.error("the news feed cannot start: %s", error)
        raise
    try:
        yield
    finally:
        await app.state.news.stop()


async def upload_aborted(request: Request, error: Exception) -> Response:
    """The client left mid-upload: count it, log nothing more; 499 (nginx's "client closed request")
    is what the access log and metrics record, as no one receives it."""
    UPLOADS_ABORTED.inc()
    return JSONResponse({"detail": "the upload was aborted by the client"}, status_code=499)


def create_app(settings: Settings | None = None) -> FastAPI:
    # The docs pages are served from package files (routes/docs.py), not FastAPI's CDN-loading ones.
    app = FastAPI(title="moodfeed", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings or Settings()
    app.state.news = NewsFeed.from_settings(app.state.settings)
    app.state.news.on_fetch(count_feed_fetch)
    app.state.uploads = ClientShares(app.state.settings.max_concurrent_uploads)
    # Clips have their own slots: held for a whole analysis, they must not keep photos waiting.
    app.state.video_uploads = ClientShares(app.state.settings.max_concurrent_videos)
    app.add_exception_handler(UploadAborted, upload_aborted)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(page.router)
    app.include_router(feed.router)
    app.include_router(predict.router)
    app.include_router(stream.router)
    app.include_router(analyze.router)
    app.include_router(docs.router)
    docs.mount_assets(app)
    app.state.templates = Jinja2Templates(directory=app.state.settings.web_dir / "templates")
    app.mount("/static", StaticFiles(directory=app.state.settings.web_dir / "static"), name="static")
    install_middleware(app, app.state.settings)
    return app
