"""A real moodfeed server on loopback and Debian's Chromium, with a fake webcam that films a real face."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)
from skimage import data

from service.config import Settings
from tests.news.feed_server import FeedServer, Reply
from tests.web.live_server import LiveServer

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def write_y4m(path: Path, image_rgb: np.ndarray, frames: int = 10) -> None:
    """Write `frames` copies of an RGB image as YUV4MPEG2 (I420), the video Chromium's fake camera plays."""
    height, width = (side - side % 2 for side in image_rgb.shape[:2])
    ycbcr = np.asarray(Image.fromarray(image_rgb[:height, :width]).convert("YCbCr"))
    luma = ycbcr[:, :, 0]
    # 4:2:0 chroma: each 2x2 block's average, as C420jpeg (centred chroma samples) expects.
    chroma = [
        ycbcr[:, :, plane].reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3)).round().astype(np.uint8)
        for plane in (1, 2)
    ]
    frame = b"FRAME\n" + luma.tobytes() + chroma[0].tobytes() + chroma[1].tobytes()
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * frames)


@pytest.fixture(scope="session")
def face_rgb() -> np.ndarray:
    """A real, public-domain photo of a face: NASA's portrait of Eileen Collins."""
    return np.asarray(data.astronaut())


@pytest.fixture(scope="session")
def fake_camera(tmp_path_factory: pytest.TempPathFactory, face_rgb: np.ndarray) -> Path:
    path = tmp_path_factory.mktemp("camera") / "astronaut.y4m"
    write_y4m(path, face_rgb)
    return path


@pytest.fixture(scope="session")
def face_jpeg(tmp_path_factory: pytest.TempPathFactory, face_rgb: np.ndarray) -> Path:
    path = tmp_path_factory.mktemp("photo") / "astronaut.jpg"
    Image.fromarray(face_rgb).save(path, quality=90)
    return path


# Real-looking stories of clearly different tone, from three feeds, so every mood ranks them differently.
# Two carry hostile markup, as real feeds sometimes do.
STORIES = {
    "/good-news.rss": (
        "Good News Daily",
        [
            ("Neighbours plant a joyful community garden that feeds forty families", "Free, fresh food."),
            ("Rescued puppy finds a loving home with the kind firefighter who saved her", "A happy ending."),
            ("Town celebrates as its beloved library reopens after a fundraiser", "Children cheered."),
            ("Calm forest walks lower stress and improve sleep, gentle study finds", "Peaceful and simple."),
            ("Bakery opens <img src=x onerror=\"document.title='pwned'\"> a second shop", "Fresh bread."),
        ],
    ),
    "/world-wire.rss": (
        "World Wire",
        [
            ("Storm kills dozens and forces thousands to flee as floods destroy homes", "A terrible night."),
            ("Families mourn miners lost in tragic tunnel collapse", "Grief across the valley."),
            ("Outrage as officials accused of hiding toxic waste leak for years", "Furious residents."),
            ("Talks collapse as border war escalates and casualties mount", "Fear of a wider war."),
            ("Council approves next year's budget for road repairs", "The vote passed 7 to 2."),
        ],
    ),
    "/science-notes.rss": (
        "Science Notes",
        [
            ("Astronomers stunned by a strange planet with a comet-like tail", "Nobody expected this."),
            ("Breakthrough therapy helps paralysed patients walk again", "A hopeful result."),
            ("Glacier loss accelerates, threatening water for millions", "A grim warning."),
            ("Why 2 < 3 matters: <script>document.title='pwned'</script>maths club wins", "Numbers & joy."),
        ],
    ),
}


def rss(path: str, title: str, stories: list[tuple[str, str]], now: datetime) -> bytes:
    """An RSS 2.0 feed of `stories`, the newest published an hour before `now`, then one hour apart."""
    items = "".join(
        f"<item><title>{escape(headline)}</title><link>https://news.example{path}/{index}</link>"
        f"<guid>{path}/{index}</guid><description>{escape(summary)}</description>"
        f"<pubDate>{format_datetime(now - timedelta(hours=1 + index))}</pubDate></item>"
        for index, (headline, summary) in enumerate(stories)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://news.example/</link><description>Test feed</description>{items}</channel></rss>"
    ).encode()


@pytest.fixture(scope="session")
def feed_urls() -> Iterator[list[str]]:
    """The test's news feeds, served over loopback HTTP like any real feed."""
    now = datetime.now(UTC)
    with FeedServer() as feeds:
        yield [feeds.serve(path, Reply(body=rss(path, *feed, now))) for path, feed in STORIES.items()]


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, feed_urls: list[str]) -> Settings:
    return Settings(
        feeds=",".join(feed_urls),
        feed_db_path=tmp_path_factory.mktemp("news") / "feeds.db",
        # The rate limit guards production from floods; a test suite loading the page many times is not one.
        rate_limit_per_s=0,
        log_format="text",
    )


@pytest.fixture(scope="session")
def server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as live:
        deadline = time.monotonic() + 30
        while httpx.get(live.url + "/feed").json()["samples"]:  # the background refresh has not landed yet
            if time.monotonic() > deadline:
                raise RuntimeError("the test feeds were not fetched")
            time.sleep(0.1)
        yield live


# Per module: Playwright's sync API keeps an event loop running in this thread while it is open, and the
# asyncio tests collected after these (pytest tests/web tests/api) cannot run beside it.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


def launch(playwright: Playwright, extra_flags: list[str]) -> Browser:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    return playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS + extra_flags)


@pytest.fixture(scope="module")
def browser_with_camera(playwright: Playwright, fake_camera: Path) -> Iterator[Browser]:
    """Chromium whose camera films the astronaut, with the permission prompt accepted automatically."""
    browser = launch(
        playwright,
        [
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={fake_camera}",
        ],
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def browser_without_camera(playwright: Playwright) -> Iterator[Browser]:
    """Chromium that refuses every camera request, as when a viewer clicks 'Block'."""
    flags = ["--use-fake-ui-for-media-stream=deny", "--use-fake-device-for-media-stream"]
    browser = launch(playwright, flags)
    yield browser
    browser.close()


class PageErrors:
    """Everything the page reported as broken: uncaught exceptions, console errors, CSP violations."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("pageerror", lambda error: self.messages.append(f"uncaught: {error}"))
        page.on("console", self.console)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.messages.append(f"console: {message.text}")


OpenPage = Callable[..., tuple[Page, PageErrors]]


@pytest.fixture
def open_page(server: LiveServer) -> Iterator[OpenPage]:
    """Open the page in a fresh browser context (no shared permissions or storage) at a viewport size."""
    contexts: list[BrowserContext] = []

    def open_in(browser: Browser, viewport: ViewportSize, url: str = server.url) -> tuple[Page, PageErrors]:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        errors = PageErrors(page)
        page.goto(url + "/")
        return page, errors

    yield open_in
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go for people (and CI) to look at: test-artifacts/ at the repository root."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
