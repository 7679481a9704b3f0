"""GET /docs (Swagger UI) and GET /redoc (ReDoc) from files in the installed package: no CDN, no fonts.

FastAPI's own docs pages load their code from a CDN, so offline they are blank. fastapi-offline ships the
same Swagger UI and ReDoc builds as package data; these routes serve FastAPI's pages pointed at them.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
DOCS_PATHS = frozenset({"/docs", "/redoc"})
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"

router = APIRouter(include_in_schema=False)


def mount_assets(app: FastAPI) -> None:
    """Serve the Swagger UI and ReDoc builds the docs pages load."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="docs-assets")


def _under_root(request: Request, path: str) -> str:
    """`path` as the browser must ask for it behind a proxy that mounts the app under a prefix."""
    return f"{request.scope.get('root_path', '')}{path}"


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=_under_root(request, request.app.openapi_url),
        title=f"{request.app.title} API",
        swagger_js_url=_under_root(request, f"{ASSETS_PATH}/swagger-ui-bundle.js"),
        swagger_css_url=_under_root(request, f"{ASSETS_PATH}/swagger-ui.css"),
        swagger_favicon_url=_under_root(request, f"{ASSETS_PATH}/favicon.png"),
        # The validator badge would send the schema's address to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=_under_root(request, request.app.openapi_url),
        title=f"{request.app.title} API",
        redoc_js_url=_under_root(request, f"{ASSETS_PATH}/redoc.standalone.js"),
        redoc_favicon_url=_under_root(request, f"{ASSETS_PATH}/favicon.png"),
        with_google_fonts=False,
    )
