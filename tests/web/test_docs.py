"""The API docs in a real browser, offline: Swagger UI and ReDoc render from this server alone."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Request, expect

from tests.web.live_server import LiveServer


@pytest.mark.parametrize(("path", "rendered"), [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")])
def test_the_api_docs_render_without_any_request_leaving_the_machine(
    server: LiveServer, browser_without_camera: Browser, path: str, rendered: str
) -> None:
    context = browser_without_camera.new_context()
    attempted: list[str] = []  # requests for other hosts, in the order the page made them
    stopped_by_policy: list[str] = []  # ...and those the page's CSP stopped before any connection

    def note(request: Request) -> None:
        if urlsplit(request.url).hostname not in ("127.0.0.1", None) and request.url.startswith("http"):
            attempted.append(request.url)

    def failed(request: Request) -> None:
        if request.failure == "csp":
            stopped_by_policy.append(request.url)

    context.on("request", note)
    context.on("requestfailed", failed)
    page = context.new_page()
    try:
        page.goto(server.url + path)
        expect(page.locator(rendered).first).to_contain_text("moodfeed", timeout=20_000)
        expect(page.get_by_text("/predict").first).to_be_visible()
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    # ReDoc's bundle shows its maker's logo from a CDN; the docs' policy (img-src 'self') stops it.
    assert attempted == stopped_by_policy
