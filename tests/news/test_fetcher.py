"""Fetching feeds from a real loopback server: limits, conditional GET, and failures that stay contained."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from service.news.fetched import FetchOutcome, Validators
from service.news.fetcher import USER_AGENT, Fetcher, FetchResult
from tests.news.feed_server import CLOSED_PORT_URL, FeedServer, Reply

NO_VALIDATORS = Validators()


def fetch(
    url: str,
    validators: Validators = NO_VALIDATORS,
    *,
    timeout_s: float = 5.0,
    max_bytes: int = 1_000_000,
    allow_private: bool = True,
) -> FetchResult:
    async def run() -> FetchResult:
        fetcher = Fetcher(timeout_s=timeout_s, max_bytes=max_bytes, allow_private=allow_private)
        try:
            return await fetcher.fetch(url, validators)
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


def test_fetch_returns_the_body_and_its_validators_and_sends_a_polite_user_agent(
    feed_server: FeedServer,
) -> None:
    reply = Reply.fixture("good.rss.xml", etag='"v1"')
    result = fetch(feed_server.serve("/feed", reply))
    assert result.outcome is FetchOutcome.OK
    assert result.body == reply.body
    assert result.validators.etag == '"v1"'
    assert result.content_type == "application/rss+xml"
    assert reply.headers_seen[0]["User-Agent"] == USER_AGENT


def test_fetch_sends_the_etag_back_and_a_304_is_not_modified(feed_server: FeedServer) -> None:
    reply = Reply.fixture("good.rss.xml", etag='"v1"')
    url = feed_server.serve("/feed", reply)
    result = fetch(url, Validators(etag='"v1"', last_modified="Tue, 04 Jun 2024 08:00:00 GMT"))
    assert result.outcome is FetchOutcome.NOT_MODIFIED
    assert result.body == b""
    assert result.validators.etag == '"v1"'
    assert reply.headers_seen[0]["If-None-Match"] == '"v1"'
    assert reply.headers_seen[0]["If-Modified-Since"] == "Tue, 04 Jun 2024 08:00:00 GMT"


def test_fetch_of_a_server_error_is_an_error_with_its_status(feed_server: FeedServer) -> None:
    result = fetch(feed_server.serve("/broken", Reply(b"oops", status=500)))
    assert result.outcome is FetchOutcome.ERROR
    assert result.error == "HTTP 500"


def test_fetch_gives_up_on_a_server_that_does_not_answer_in_time(feed_server: FeedServer) -> None:
    result = fetch(feed_server.serve("/slow", Reply.fixture("good.rss.xml", delay_s=3.0)), timeout_s=0.3)
    assert result.outcome is FetchOutcome.ERROR
    assert result.error == "timed out after 0.3 s"


def test_fetch_gives_up_on_a_server_that_trickles_the_body_past_the_deadline(feed_server: FeedServer) -> None:
    # Each piece arrives well within a read timeout; only the whole-fetch deadline can stop this.
    reply = Reply.fixture("good.rss.xml", drip_s=0.2, send_length=False)
    result = fetch(feed_server.serve("/trickle", reply), timeout_s=0.5)
    assert result.outcome is FetchOutcome.ERROR
    assert result.error == "timed out after 0.5 s"


def test_fetch_refuses_a_body_declared_larger_than_the_cap(feed_server: FeedServer) -> None:
    result = fetch(feed_server.serve("/huge", Reply(b"<rss>" + b" " * 50_000)), max_bytes=10_000)
    assert result.outcome is FetchOutcome.ERROR
    assert result.error == "body larger than 10000 bytes"


def test_fetch_stops_reading_an_undeclared_body_at_the_cap(feed_server: FeedServer) -> None:
    reply = Reply(b"<rss>" + b" " * 200_000, send_length=False)
    result = fetch(feed_server.serve("/huge-stream", reply), max_bytes=10_000)
    assert result.outcome is FetchOutcome.ERROR
    assert result.error == "body larger than 10000 bytes"


def test_fetch_follows_a_redirect_to_the_feed(feed_server: FeedServer) -> None:
    target = feed_server.serve("/new-home", Reply.fixture("good.atom.xml"))
    result = fetch(feed_server.serve("/old-home", Reply(status=301, location=target)))
    assert result.outcome is FetchOutcome.OK
    assert result.final_url == target


def test_fetch_gives_up_on_a_redirect_loop(feed_server: FeedServer) -> None:
    url = feed_server.serve("/loop", Reply(status=302, location=feed_server.url("/loop")))
    result = fetch(url)
    assert result.outcome is FetchOutcome.ERROR
    assert result.error == "more than 5 redirects"


@pytest.mark.parametrize("url", ["http://a..b/feed", f"http://{'x' * 64}.example/feed"])
def test_a_host_name_that_cannot_be_encoded_is_an_error_not_an_exception(url: str) -> None:
    result = fetch(url, allow_private=False)
    assert result.outcome is FetchOutcome.ERROR
    assert (result.error or "").startswith("not a usable URL")


def test_fetch_of_a_closed_port_is_an_error_not_an_exception() -> None:
    result = fetch(f"{CLOSED_PORT_URL}/feed")
    assert result.outcome is FetchOutcome.ERROR
    assert result.error is not None and result.error.startswith("ConnectError")


def test_a_feed_on_this_machine_is_refused_before_any_request_unless_private_feeds_are_allowed(
    feed_server: FeedServer,
) -> None:
    reply = Reply.fixture("good.rss.xml")
    url = feed_server.serve("/feed", reply)

    async def run() -> FetchResult:
        fetcher = Fetcher(timeout_s=5, max_bytes=1_000_000)
        try:
            return await fetcher.fetch(url)
        finally:
            await fetcher.aclose()

    result = asyncio.run(run())
    assert result.outcome is FetchOutcome.ERROR and reply.headers_seen == []
    assert result.error is not None and result.error.startswith("refused: the feed's address is not public")
    assert "127.0.0.1" not in result.error


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5:6379/",
        "http://[::1]:22/",
        "http://localhost:8000/metrics",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_a_redirect_from_a_public_feed_to_an_internal_address_is_refused_at_that_hop(target: str) -> None:
    requested: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requested.append(request)
        return httpx.Response(302, headers={"Location": target})

    async def run() -> FetchResult:
        fetcher = Fetcher(timeout_s=5, max_bytes=1_000_000, transport=httpx.MockTransport(answer))
        try:
            return await fetcher.fetch("http://93.184.216.34/feed.xml")  # a public address: no DNS
        finally:
            await fetcher.aclose()

    result = asyncio.run(run())
    assert result.outcome is FetchOutcome.ERROR
    assert result.error is not None and "not public" in result.error
    assert [str(request.url) for request in requested] == ["http://93.184.216.34/feed.xml"]


def test_a_public_feed_is_fetched_from_the_address_that_was_checked_with_its_own_host_name() -> None:
    requested: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requested.append(request)
        return httpx.Response(200, content=b"<rss/>")

    async def run() -> FetchResult:
        fetcher = Fetcher(timeout_s=5, max_bytes=1_000_000, transport=httpx.MockTransport(answer))
        try:
            return await fetcher.fetch("https://[2606:4700::6810:84e5]:8443/feed.xml")
        finally:
            await fetcher.aclose()

    result = asyncio.run(run())
    assert (
        result.outcome is FetchOutcome.OK
        and result.final_url == "https://[2606:4700::6810:84e5]:8443/feed.xml"
    )
    (request,) = requested
    assert request.headers["Host"] == "[2606:4700::6810:84e5]:8443"
    assert request.extensions["sni_hostname"] == "2606:4700::6810:84e5"
