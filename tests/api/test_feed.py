"""GET /feed and GET /feeds/status: the contract the page relies on, served from real feeds on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from model.labels import STORY_EMOTIONS
from service.config import Settings
from service.main import create_app
from service.news.mood import EMOTIONS
from service.news.sources import FeedListError
from tests.news.feed_server import CENTURY_S, CLOSED_PORT_URL, FeedServer, Reply
from tests.support import refreshed

CLOSED_PORT_FEEDS = f"{CLOSED_PORT_URL}/rss,{CLOSED_PORT_URL}/atom"
ITEM_KEYS = {
    "id",
    "title",
    "link",
    "source",
    "published",
    "summary",
    "categories",
    "image",
    "valence",
    "emotions",
    "score",
    "reason",
}


@pytest.fixture(scope="module")
def offline_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app whose feeds cannot be reached and have never been fetched: it serves the samples."""
    with TestClient(
        create_app(settings_for(tmp_path_factory.mktemp("offline"), CLOSED_PORT_FEEDS))
    ) as client:
        yield client


def settings_for(tmp_path: Path, feeds: str, *, refresh: bool = False) -> Settings:
    return Settings(
        feeds=feeds, feed_db_path=tmp_path / "feeds.db", feed_refresh=refresh, feed_retention_s=CENTURY_S
    )


def test_offline_first_run_serves_the_labelled_samples_at_once_while_feeds_fail_in_the_background(
    tmp_path: Path,
) -> None:
    with TestClient(create_app(settings_for(tmp_path, CLOSED_PORT_FEEDS, refresh=True))) as client:
        page = client.get("/feed", params={"emotion": "neutral"}).json()
    assert page["samples"] is True
    assert len(page["items"]) == 20
    assert all(item["source"].startswith("Sample: ") for item in page["items"])


def test_feed_items_carry_every_field_of_the_contract(offline_client: TestClient) -> None:
    response = offline_client.get("/feed", params={"emotion": "sad", "policy": "uplift", "limit": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["mood"] == {
        "emotion": "sad",
        "confidence": 1.0,
        "scores": {label: float(label == "sad") for label in EMOTIONS},
        "policy": "uplift",
    }
    assert len(body["items"]) == 5
    for item in body["items"]:
        assert set(item) == ITEM_KEYS
        assert (
            item["published"].endswith("Z") and datetime.fromisoformat(item["published"]).tzinfo is not None
        )
        assert item["link"].startswith("https://")
        assert -1 <= item["valence"] <= 1 and 0 <= item["score"] <= 1
        assert list(item["emotions"]) == list(STORY_EMOTIONS)
        assert all(0 <= value <= 1 for value in item["emotions"].values())
        assert item["reason"].endswith(", to lift a sad mood")
    assert len({item["id"] for item in body["items"]}) == 5


def test_feed_accepts_a_score_vector_as_the_mood(offline_client: TestClient) -> None:
    body = offline_client.get(
        "/feed", params={"scores": "angry:0.1,happy:0.6,sad:0.3", "policy": "match"}
    ).json()
    assert body["mood"]["emotion"] == "happy"
    assert body["mood"]["scores"]["happy"] == 0.6
    assert body["mood"]["policy"] == "match"


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        (
            {"emotion": "bored"},
            "unknown emotion 'bored': expected one of angry, disgust, fear, happy, sad, surprise, neutral",
        ),
        ({"policy": "doomscroll"}, "unknown policy 'doomscroll': expected one of uplift, match"),
        ({"scores": "sad:lots"}, "scores: 'lots' for 'sad' is not a number"),
        ({"scores": "sad:0,happy:0"}, "scores: give at least one emotion with a probability above 0"),
        ({"emotion": "sad", "scores": "sad:1"}, "give emotion or scores, not both"),
    ],
)
def test_feed_refuses_an_unusable_mood_or_policy_with_422_and_a_clear_message(
    offline_client: TestClient, params: dict[str, str], detail: str
) -> None:
    response = offline_client.get("/feed", params=params)
    assert response.status_code == 422
    assert response.json() == {"detail": detail}


def test_an_empty_emotion_or_policy_is_taken_as_not_given(offline_client: TestClient) -> None:
    unsaid = offline_client.get("/feed", params={"emotion": "", "policy": ""})
    assert unsaid.status_code == 200
    assert unsaid.json() == offline_client.get("/feed").json()
    assert unsaid.json()["mood"]["emotion"] == "neutral" and unsaid.json()["mood"]["policy"] == "uplift"


@pytest.mark.parametrize("limit", ["0", "101", "many"])
def test_feed_refuses_a_limit_out_of_range_with_422(offline_client: TestClient, limit: str) -> None:
    assert offline_client.get("/feed", params={"limit": limit}).status_code == 422


def test_fetched_stories_replace_the_samples_and_are_ranked_for_the_mood(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feeds = ",".join(
        [
            feed_server.serve("/rss", Reply.fixture("good.rss.xml")),
            feed_server.serve("/atom", Reply.fixture("good.atom.xml")),
        ]
    )
    with TestClient(create_app(settings_for(tmp_path, feeds))) as client:
        uplift = refreshed(client).get("/feed", params={"emotion": "sad"}).json()
        match = client.get("/feed", params={"emotion": "sad", "policy": "match"}).json()
    assert uplift["samples"] is False
    assert {item["source"] for item in uplift["items"]} == {"Loopback Daily", "Loopback Atom"}

    def titles(page: dict[str, Any]) -> list[str]:
        return [item["title"] for item in page["items"]]

    # Two stories of the same morning: the hopeful one lifts a sad mood, the grim one matches it.
    hopeful = "Volunteers plant ten thousand trees in a joyful weekend of community work"
    grim = "Bridge closed after engineers find dangerous cracks"
    assert hopeful in titles(uplift) and grim not in titles(uplift)
    assert grim in titles(match) and hopeful not in titles(match)


def test_stored_stories_are_served_at_once_after_a_restart_even_with_every_feed_down(tmp_path: Path) -> None:
    with FeedServer() as server:
        feeds = server.serve("/rss", Reply.fixture("good.rss.xml"))
        with TestClient(create_app(settings_for(tmp_path, feeds))) as client:
            refreshed(client)
            before = client.get("/feed", params={"emotion": "happy"}).json()["items"]
    # The feed server is gone now; a new app on the same store serves what it held.
    with TestClient(create_app(settings_for(tmp_path, feeds, refresh=True))) as client:
        after = client.get("/feed", params={"emotion": "happy"}).json()
    assert after["samples"] is False
    assert [item["id"] for item in after["items"]] == [item["id"] for item in before]


def test_hostile_feed_content_reaches_the_api_as_plain_text_with_safe_links(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feeds = feed_server.serve("/xss", Reply.fixture("xss.rss.xml"))
    with TestClient(create_app(settings_for(tmp_path, feeds))) as client:
        items = refreshed(client).get("/feed").json()["items"]
    assert sorted(item["title"] for item in items) == ["Breaking: markup in a title", "Framed title"]
    for item in items:
        text = f"{item['title']} {item['summary']} {item['source']}".lower()
        assert "<" not in text and "alert" not in text and "javascript" not in text
        assert item["link"].startswith("https://hostile.example.org/")
        assert item["image"] is None or item["image"].startswith(("https://", "http://"))


def test_feeds_status_shows_each_feeds_last_success_last_error_and_story_count(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    good = feed_server.serve("/rss", Reply.fixture("good.rss.xml"))
    broken = feed_server.serve("/broken", Reply(b"oops", status=500))
    with TestClient(create_app(settings_for(tmp_path, f"{good},{broken}"))) as client:
        before = client.get("/feeds/status").json()
        after = refreshed(client).get("/feeds/status").json()
    assert before["samples"] is True
    assert [feed["last_attempt"] for feed in before["feeds"]] == [None, None]
    assert after["samples"] is False
    ok, failed = after["feeds"]
    assert (ok["url"], ok["title"], ok["story_count"], ok["last_outcome"], ok["last_error"]) == (
        good,
        "Loopback Daily",
        4,
        "ok",
        None,
    )
    assert ok["last_success"] is not None
    assert (failed["url"], failed["story_count"], failed["last_outcome"], failed["last_error"]) == (
        broken,
        0,
        "error",
        "HTTP 500",
    )
    assert failed["last_success"] is None and failed["consecutive_failures"] == 1
    assert failed["next_attempt"] > failed["last_attempt"]


def test_an_unusable_feed_list_stops_the_app_from_starting_with_its_message(tmp_path: Path) -> None:
    with pytest.raises(FeedListError, match=r"not an http\(s\) feed URL: 'ftp://files.example/feed'"):
        create_app(settings_for(tmp_path, "ftp://files.example/feed"))
