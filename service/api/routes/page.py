"""The web page: GET / renders the single-page template; its script and styles are served from /static."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from model.labels import EMOTIONS
from service.api.deps import TemplatesDep

router = APIRouter(tags=["page"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, templates: TemplatesDep) -> HTMLResponse:
    """The page a viewer opens: camera, live overlay, mood and the feed that follows it."""
    return templates.TemplateResponse(request, "index.html", {"emotions": EMOTIONS})
