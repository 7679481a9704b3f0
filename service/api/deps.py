"""Dependencies the routes share, declared once as typed aliases so route signatures read as plain types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.templating import Jinja2Templates
from starlette.requests import HTTPConnection

from service.api.limits import client_key
from service.api.shares import ClientShares
from service.api.vision import Vision
from service.config import Settings
from service.news.feed import NewsFeed


def _app_state(name: str) -> Callable[[HTTPConnection], Any]:
    """A dependency answering `app.state.<name>`, which the app sets once as it starts (`service.main`:
    `create_app` and its lifespan)."""

    def dependency(connection: HTTPConnection) -> Any:
        return getattr(connection.app.state, name)

    return dependency


SettingsDep = Annotated[Settings, Depends(_app_state("settings"))]
NewsDep = Annotated[NewsFeed, Depends(_app_state("news"))]
TemplatesDep = Annotated[Jinja2Templates, Depends(_app_state("templates"))]
UploadsDep = Annotated[ClientShares, Depends(_app_state("uploads"))]
VideoUploadsDep = Annotated[ClientShares, Depends(_app_state("video_uploads"))]


def loaded_vision(app: FastAPI) -> Vision | None:
    """The app's vision engine, or None while it is not loaded (starting up, or no usable model)."""
    vision: Vision | None = getattr(app.state, "vision", None)
    return vision


def vision_load_error(app: FastAPI) -> str | None:
    """Why the vision engine could not be loaded; None if it loaded or is still loading."""
    error: str | None = getattr(app.state, "vision_error", None)
    return error


def vision_unavailable_reason(app: FastAPI) -> str:
    reason = vision_load_error(app) or "the server is still starting"
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
