"""The web page: GET / renders the single-page template; its script and styles are served from /static."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from service.news.mood import EMOTIONS

router = APIRouter(tags=["page"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request) -> HTMLResponse:
    """The page a viewer opens: camera, live overlay, mood and the feed that follows it."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, "index.html", {"emotions": EMOTIONS})
