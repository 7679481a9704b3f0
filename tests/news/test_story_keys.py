"""Telling stories apart: stable ids, normalised links, and near-identical titles."""

from __future__ import annotations

from service.news.stories import near_duplicate, normalised_link, story_id, title_words


def test_normalised_link_drops_tracking_parameters_fragments_case_and_trailing_slashes() -> None:
    assert (
        normalised_link("HTTPS://News.Example.org/story/?utm_source=rss&id=7&fbclid=abc#comments")
        == "https://news.example.org/story?id=7"
    )


def test_story_id_is_stable_and_comes_from_the_guid_when_there_is_one() -> None:
    by_guid = story_id("https://feed.example/rss", "guid-1", "https://news.example/a")
    assert by_guid == story_id("https://feed.example/rss", "guid-1", "https://news.example/a-renamed")
    assert by_guid != story_id("https://other-feed.example/rss", "guid-1", "https://news.example/a")
    assert len(by_guid) == 16


def test_story_id_without_a_guid_is_the_feeds_own_and_ignores_tracking_and_slashes() -> None:
    assert story_id("https://a.example/rss", None, "https://news.example/x?utm_medium=a") == story_id(
        "https://a.example/rss", None, "https://news.example/x/"
    )
    assert story_id("https://a.example/rss", None, "https://news.example/x") != story_id(
        "https://b.example/rss", None, "https://news.example/x"
    )


def test_titles_reworded_slightly_by_two_sources_are_near_duplicates() -> None:
    assert near_duplicate(
        title_words("Storm hits the coast, thousands without power"),
        title_words("Storm hits coast: thousands without power overnight"),
    )


def test_different_stories_on_the_same_subject_are_not_near_duplicates() -> None:
    assert not near_duplicate(
        title_words("Storm hits the coast, thousands without power"),
        title_words("Storm season forecast to be milder than last year"),
    )


def test_short_titles_are_near_duplicates_only_when_identical() -> None:
    assert near_duplicate(title_words("Markets rally"), title_words("markets RALLY!"))
    assert not near_duplicate(title_words("Markets rally"), title_words("Markets fall"))
