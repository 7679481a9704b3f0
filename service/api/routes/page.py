"""The web page: GET / renders the single-page template; its script and styles are served from /static."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from service.news.mood import EMOTIONS

WEB_DIR = Path(__file__).resolve().parents[3] / "web"
STATIC_DIR = WEB_DIR / "static"
TEMPLATES = Jinja2Templates(directory=WEB_DIR / "templates")

router = APIRouter(tags=["page"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request) -> HTMLResponse:
    """The page a viewer opens: camera, live overlay, mood and the feed that follows it."""
    return TEMPLATES.TemplateResponse(request, "index.html", {"emotions": EMOTIONS})
