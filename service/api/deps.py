"""Dependencies the routes share, declared once as typed aliases so route signatures read as plain types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.templating import Jinja2Templates
from starlette.requests import HTTPConnection

from service.api.limits import client_key
from service.api.shares import ClientShares
from service.api.vision import Vision
from service.config import Settings
from service.news.feed import NewsFeed


def get_settings(connection: HTTPConnection) -> Settings:
    settings: Settings = connection.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_news(connection: HTTPConnection) -> NewsFeed:
    news: NewsFeed = connection.app.state.news
    return news


NewsDep = Annotated[NewsFeed, Depends(get_news)]


def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]


def loaded_vision(app: FastAPI) -> Vision | None:
    """The app's vision engine, or None while it is not loaded (starting up, or no usable model)."""
    vision: Vision | None = getattr(app.state, "vision", None)
    return vision


def vision_unavailable_reason(app: FastAPI) -> str:
    reason = getattr(app.state, "vision_error", None) or "the server is still starting"
    return f"emotion recognition is unavailable: {reason}"


def get_vision(request: Request) -> Vision:
    vision = loaded_vision(request.app)
    if vision is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, vision_unavailable_reason(request.app))
    return vision


VisionDep = Annotated[Vision, Depends(get_vision)]


def client_of(connection: HTTPConnection) -> str:
    """The client's address, the key of its fair shares and limits."""
    return client_key(connection.scope)


def get_uploads(request: Request) -> ClientShares:
    uploads: ClientShares = request.app.state.uploads
    return uploads


UploadsDep = Annotated[ClientShares, Depends(get_uploads)]


def get_video_uploads(request: Request) -> ClientShares:
    video_uploads: ClientShares = request.app.state.video_uploads
    return video_uploads


VideoUploadsDep = Annotated[ClientShares, Depends(get_video_uploads)]
