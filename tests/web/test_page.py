"""The page in a real browser: a fake webcam filming a real face, the overlay, the feed, the photo path."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from playwright.sync_api import Browser, FilePayload, Page, ViewportSize, WebSocket, expect

from model.labels import EMOTIONS
from service.config import Settings
from tests.vision.frames import face_frame, write_video
from tests.web.conftest import OpenPage
from tests.web.live_server import LiveServer

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
FACE_LINE = re.compile(rf"Face 1: ({'|'.join(EMOTIONS)}), \d+%")
WAIT_MS = 20_000  # generous: the model shares two cores with whatever else the machine runs


class InlineCode(HTMLParser):
    """Finds what a strict CSP (script-src 'self'; style-src 'self') would block in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if "style" in names:
            self.found.append(f"style attribute on <{tag}>")
        self.found += [f"{name} handler on <{tag}>" for name in names if name.startswith("on")]
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script":
            source = dict(attrs).get("src")
            if source:
                self.scripts.append(source)
            else:
                self.found.append("inline <script>")


class StreamLog:
    """What crossed the page's WebSocket: the JPEG frames it sent and the answers it got, in order."""

    def __init__(self, page: Page) -> None:
        self.events: list[str] = []
        self.frame_sizes: list[tuple[int, int]] = []
        self.answers: list[dict[str, Any]] = []
        page.on("websocket", self.watch)

    def watch(self, socket: WebSocket) -> None:
        socket.on("framesent", self.sent)
        socket.on("framereceived", self.received)

    def sent(self, payload: bytes | str) -> None:
        self.events.append("sent")
        if isinstance(payload, bytes):
            self.frame_sizes.append(Image.open(io.BytesIO(payload)).size)

    def received(self, payload: bytes | str) -> None:
        self.events.append("answer")
        self.answers.append(json.loads(payload))

    def wait_for_answers(self, page: Page, count: int) -> None:
        """Let the page run until this many answers have arrived in all (or WAIT_MS has passed)."""
        for _ in range(WAIT_MS // 100):
            if len(self.answers) >= count:
                return
            page.wait_for_timeout(100)
        raise AssertionError(f"{len(self.answers)} answers arrived, {count} expected")

    def most_in_flight(self) -> int:
        in_flight = most = 0
        for event in self.events:
            in_flight += 1 if event == "sent" else -1
            most = max(most, in_flight)
        return most

    def last_face(self) -> dict[str, Any]:
        return next(answer for answer in reversed(self.answers) if answer.get("faces"))["faces"][0]


def overlay_alphas(page: Page, x: float, y: float, reach: int) -> list[int]:
    """The overlay canvas's opacity (0 = see-through) along a row, from x - reach to x + reach CSS pixels."""
    return list(
        page.evaluate(
            """([x, y, reach]) => {
                const canvas = document.getElementById("overlay");
                const ratio = canvas.width / canvas.clientWidth;
                const at = (v) => Math.round(v * ratio);
                const row = canvas.getContext("2d").getImageData(at(x - reach), at(y), at(2 * reach) + 1, 1);
                return Array.from(row.data).filter((_, index) => index % 4 === 3);
            }""",
            [x, y, reach],
        )
    )


def story_keys(page: Page) -> list[str]:
    return page.locator("#feed > article").evaluate_all("articles => articles.map(a => a.dataset.key)")


def wait_for_feed(page: Page) -> None:
    expect(page.locator("#feed > article").first).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#feed")).to_have_attribute("aria-busy", "false", timeout=WAIT_MS)


def change_feed(page: Page, action: Callable[[], object]) -> list[str]:
    """Change a feed control, wait for the feed it asks for to be shown, and return the stories' order."""
    with page.expect_response(lambda response: "/feed?" in response.url, timeout=WAIT_MS):
        action()
    wait_for_feed(page)
    return story_keys(page)


def test_page_and_its_assets_are_served_with_no_inline_code(server: LiveServer) -> None:
    page = httpx.get(server.url + "/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    parser = InlineCode()
    parser.feed(page.text)
    assert parser.found == []
    assert parser.scripts == ["/static/app.js"]
    assert 'id="feed"' in page.text and "never stored or logged" in page.text
    for asset in ("app.js", "app.css", "camera.js", "connection.js", "feed.js", "overlay.js", "mood.js"):
        assert httpx.get(f"{server.url}/static/{asset}").status_code == 200, asset


def test_fake_webcam_face_gets_a_labelled_box_over_the_mirrored_video(
    browser_with_camera: Browser, open_page: OpenPage, artifacts: Path
) -> None:
    page, errors = open_page(browser_with_camera, DESKTOP)
    stream = StreamLog(page)
    page.click("#camera-toggle")

    expect(page.locator("#faces li").first).to_have_text(FACE_LINE, timeout=WAIT_MS)
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(page.locator("#camera-toggle")).to_have_text("Stop camera")
    expect(page.locator("#mood-bars .bar-value").first).to_have_text(re.compile(r"\d+%"))
    expect(page.locator("#timeline")).to_have_attribute("aria-label", re.compile(r"^Over the last minute"))

    # The box is drawn where the server found the face, flipped like the mirrored video it sits on.
    face = stream.last_face()["box"]
    frame_width, frame_height = stream.frame_sizes[-1]
    assert 320 <= frame_width <= 480
    stage = page.locator("#overlay").bounding_box()
    assert stage is not None
    scale = min(stage["width"] / frame_width, stage["height"] / frame_height)
    left = (stage["width"] - frame_width * scale) / 2 + (frame_width - face["x"] - face["w"]) * scale
    top = (stage["height"] - frame_height * scale) / 2 + face["y"] * scale
    middle = top + face["h"] * scale / 2
    # Boxes of a still face jitter by a few pixels from frame to frame, and the canvas may already show
    # a newer answer than the last one logged here: look for each edge within a few pixels.
    reach = 6
    assert 255 in overlay_alphas(page, left, middle, reach)
    assert 255 in overlay_alphas(page, left + face["w"] * scale, middle, reach)
    centre = left + face["w"] * scale / 2
    assert set(overlay_alphas(page, centre, middle, reach)) == {0}  # the face itself stays clear

    # One frame in flight: the page waits for each answer before it sends the next frame.
    stream.wait_for_answers(page, len(stream.answers) + 3)
    assert stream.most_in_flight() == 1

    wait_for_feed(page)
    page.screenshot(path=artifacts / "page-desktop.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)  # one more answer, drawn at the new size
    page.screenshot(path=artifacts / "page-phone.png", full_page=True)
    assert errors.messages == []


def test_feed_shows_stories_and_reorders_in_place_when_the_mood_or_policy_changes(
    browser_with_camera: Browser, open_page: OpenPage
) -> None:
    page, errors = open_page(browser_with_camera, DESKTOP)
    wait_for_feed(page)
    sad_uplift = change_feed(page, lambda: page.select_option("#mood-picker", "sad"))
    expect(page.locator("#feed-mood")).to_have_text("Stories to lift a sad mood (picked by hand).")

    stories = page.locator("#feed > article")
    first = stories.first
    expect(first.locator("a")).to_have_attribute("rel", "noopener noreferrer")
    expect(first.locator("a")).to_have_attribute("target", "_blank")
    expect(first.locator(".story-source")).not_to_be_empty()
    expect(first.locator(".story-age")).to_have_text(re.compile(r"ago|now"))
    expect(first.locator(".story-reason")).not_to_be_empty()

    sad_match = change_feed(page, lambda: page.check('input[name="policy"][value="match"]'))
    assert sad_match != sad_uplift

    assert not set(sad_match) & set(sad_uplift), "a sad mood's match and uplift pages share no story"

    sad_again = change_feed(page, lambda: page.check('input[name="policy"][value="uplift"]'))
    assert sad_again == sad_uplift
    stories.evaluate_all("articles => articles.forEach(a => { a.shownAs = a.dataset.key; })")
    surprise_uplift = change_feed(page, lambda: page.select_option("#mood-picker", "surprise"))
    assert surprise_uplift != sad_uplift
    shared = set(surprise_uplift) & set(sad_uplift)
    assert shared, "both pages draw on the same positive stories, so some must be in both"
    # Stories in both feeds keep their element: they move, they are not rebuilt, so nothing flickers.
    kept = stories.evaluate_all("articles => articles.filter(a => a.shownAs === a.dataset.key).length")
    assert kept == len(shared)
    assert errors.messages == []


def test_without_camera_permission_a_photo_drives_the_overlay_and_the_feed(
    browser_without_camera: Browser, open_page: OpenPage, face_jpeg: Path, artifacts: Path
) -> None:
    page, errors = open_page(browser_without_camera, PHONE)
    page.click("#camera-toggle")
    expect(page.locator("#notice")).to_contain_text("Camera access was denied", timeout=WAIT_MS)
    expect(page.locator("#camera-toggle")).to_have_text("Start camera")

    with page.expect_response(lambda response: "/feed?" in response.url and "scores=" in response.url):
        page.set_input_files("#upload", face_jpeg)
    expect(page.locator("#faces li").first).to_have_text(FACE_LINE, timeout=WAIT_MS)
    expect(page.locator("#photo")).to_be_visible()
    expect(page.locator("#notice")).to_be_hidden()
    expect(page.locator("#feed-mood")).to_have_text(re.compile(rf"a ({'|'.join(EMOTIONS)}) mood\.$"))
    wait_for_feed(page)
    page.screenshot(path=artifacts / "page-photo-phone.png", full_page=True)
    assert errors.messages == []


def test_a_photo_the_server_cannot_read_gets_its_reason_shown(
    browser_without_camera: Browser, open_page: OpenPage, server: LiveServer
) -> None:
    page, errors = open_page(browser_without_camera, DESKTOP)
    not_an_image: FilePayload = {"name": "holiday.jpg", "mimeType": "image/jpeg", "buffer": b"no JPEG here"}
    as_sent = (not_an_image["name"], not_an_image["buffer"], not_an_image["mimeType"])
    refusal = httpx.post(server.url + "/predict", files={"file": as_sent})
    assert refusal.status_code == 400

    page.set_input_files("#upload", files=[not_an_image])
    expect(page.locator("#notice")).to_have_text(
        "That photo could not be read: the file may be damaged or not an image."
    )
    expect(page.locator("#faces li")).to_have_text("No face yet.")
    expect(page.locator("#connection")).not_to_have_text("Showing your photo")

    text_file: FilePayload = {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}
    page.set_input_files("#upload", files=[text_file])
    expect(page.locator("#notice")).to_have_text(
        "That file is not a photo. Choose a JPEG, PNG or WebP image."
    )
    expected = ("400 (Bad Request)", "415 (Unsupported Media Type)")
    assert [message for message in errors.messages if not message.endswith(expected)] == []


def test_stopping_the_camera_clears_the_faces_and_the_bars_and_keyboard_focus_stays_on_the_button(
    browser_with_camera: Browser, open_page: OpenPage
) -> None:
    page, errors = open_page(browser_with_camera, DESKTOP)
    page.focus("#camera-toggle")
    page.keyboard.press("Enter")
    expect(page.locator("#faces li").first).to_have_text(FACE_LINE, timeout=WAIT_MS)
    assert page.evaluate("document.activeElement.id") == "camera-toggle"

    page.keyboard.press("Enter")  # the keyboard can stop what it started
    expect(page.locator("#camera-toggle")).to_have_text("Start camera")
    expect(page.locator("#faces li")).to_have_count(0)
    expect(page.locator("#mood-bars .bar-value").first).to_have_text("–")
    expect(page.locator("#mood-summary")).to_have_text("")
    assert errors.messages == []


def test_a_photo_without_a_face_clears_the_previous_photos_mood(
    browser_without_camera: Browser, open_page: OpenPage, face_jpeg: Path, tmp_path: Path
) -> None:
    page, errors = open_page(browser_without_camera, DESKTOP)
    page.set_input_files("#upload", face_jpeg)
    expect(page.locator("#faces li").first).to_have_text(FACE_LINE, timeout=WAIT_MS)
    expect(page.locator("#feed-mood")).to_have_text(re.compile(r"mood\.$"))

    empty = tmp_path / "wall.png"
    Image.new("RGB", (320, 240), (200, 190, 180)).save(empty)
    page.set_input_files("#upload", empty)
    expect(page.locator("#notice")).to_contain_text("No face was found", timeout=WAIT_MS)
    expect(page.locator("#faces li")).to_have_text(["No face in view."])
    expect(page.locator("#mood-bars .bar-value").first).to_have_text("–")
    expect(page.locator("#feed-mood")).to_have_text("No mood yet: the top recent stories.", timeout=WAIT_MS)
    assert errors.messages == []


def test_every_emotion_colour_is_visible_on_its_track_and_the_timeline_has_a_legend_and_axis(
    browser_without_camera: Browser, open_page: OpenPage
) -> None:
    page, _ = open_page(browser_without_camera, DESKTOP)
    expect(page.locator(".legend li")).to_have_text(list(EMOTIONS))
    expect(page.locator("#timeline + .timeline-axis")).to_contain_text("now")
    ratios = page.evaluate(
        """() => {
          const luminance = (css) => {
            const [r, g, b] = css.match(/\\d+/g).slice(0, 3).map((v) => {
              const c = Number(v) / 255;
              return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
            });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b;
          };
          const track = luminance(getComputedStyle(document.querySelector(".bar-track")).backgroundColor);
          return [...document.querySelectorAll(".bar-fill")].map((fill) => {
            const colour = luminance(getComputedStyle(fill).backgroundColor);
            const [light, dark] = [Math.max(colour, track), Math.min(colour, track)];
            return [fill.className, (light + 0.05) / (dark + 0.05)];
          });
        }"""
    )
    neutral = dict(ratios)["bar-fill emotion-neutral"]
    assert neutral >= 2.0, ratios  # the old neutral was 1.1 against its track


def test_story_text_from_hostile_feeds_is_shown_as_plain_text(
    browser_with_camera: Browser, open_page: OpenPage, server: LiveServer
) -> None:
    page, errors = open_page(browser_with_camera, DESKTOP)
    wait_for_feed(page)
    items = httpx.get(server.url + "/feed", params={"emotion": "neutral", "limit": 20}).json()["items"]

    titles = page.locator("#feed .story-title").all_text_contents()
    assert sorted(titles) == sorted(item["title"] for item in items)
    assert any("<" in title for title in titles), "a title with markup-like text shows it literally"
    assert page.locator("#feed script, #feed iframe, #feed [onerror], #feed [style]").count() == 0
    assert page.title() == "moodfeed: news that follows your mood"
    for href in page.locator("#feed a").evaluate_all("links => links.map(a => a.href)"):
        assert href.startswith(("https://", "http://"))
    assert errors.messages == []


def test_lost_connection_is_shown_and_the_stream_reconnects(
    browser_with_camera: Browser, open_page: OpenPage, settings: Settings
) -> None:
    with LiveServer(settings) as first:
        page, errors = open_page(browser_with_camera, DESKTOP, first.url)
        stream = StreamLog(page)
        page.click("#camera-toggle")
        expect(page.locator("#faces li").first).to_have_text(FACE_LINE, timeout=WAIT_MS)
    # The server is gone: the page says so and keeps retrying, with growing pauses.
    expect(page.locator("#connection")).to_have_attribute("data-state", "reconnecting", timeout=WAIT_MS)
    expect(page.locator("#connection")).to_contain_text(re.compile(r"Connection lost.*Reconnecting in \d+ s"))
    answers_before = len(stream.answers)

    with LiveServer(settings, port=first.port):
        expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=WAIT_MS)
        stream.wait_for_answers(page, answers_before + 1)  # frames flow again
    # While the server was down the browser logged each refused connection; no script may have failed.
    assert [message for message in errors.messages if message.startswith("uncaught")] == []


def test_a_video_clip_is_analysed_and_its_mood_over_time_drawn(
    browser_without_camera: Browser, open_page: OpenPage, tmp_path: Path
) -> None:
    clip = write_video(tmp_path / "clip.mp4", [face_frame(100)] * 30)
    page, errors = open_page(browser_without_camera, DESKTOP)
    page.set_input_files("#video-upload", clip)
    expect(page.locator("#video-status")).to_contain_text("The video reads mostly", timeout=WAIT_MS)
    expect(page.locator("#video-timeline")).to_have_attribute("aria-label", re.compile(r"mostly \w+ \(\d+%"))
    expect(page.locator("#mood-summary")).to_have_text(re.compile(rf": ({'|'.join(EMOTIONS)})"))
    assert errors.messages == []


def test_a_photo_chosen_during_a_video_analysis_stops_it_and_a_non_video_is_named_as_such(
    browser_without_camera: Browser, open_page: OpenPage, face_jpeg: Path, tmp_path: Path
) -> None:
    clip = write_video(tmp_path / "long.mp4", [face_frame(100)] * 900)  # a minute: seconds to analyse
    page, errors = open_page(browser_without_camera, DESKTOP)
    page.set_input_files("#video-upload", clip)
    expect(page.locator("#video-status")).to_contain_text("s read", timeout=WAIT_MS)

    page.set_input_files("#upload", face_jpeg)

    expect(page.locator("#video-status")).to_contain_text("Stopped after", timeout=WAIT_MS)
    expect(page.locator("#faces li").first).to_have_text(FACE_LINE, timeout=WAIT_MS)
    page.wait_for_timeout(500)
    expect(page.locator("#video-status")).to_contain_text("Stopped after")  # no later reading came in

    text_file: FilePayload = {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}
    page.set_input_files("#video-upload", files=[text_file])
    expect(page.locator("#notice")).to_have_text(
        "That file is not a video. Choose a clip in one of these: MP4, WebM, QuickTime, Matroska, AVI."
    )
    assert [
        message for message in errors.messages if not message.endswith("415 (Unsupported Media Type)")
    ] == []
