"""Fetch one feed's bytes over HTTP, politely and within hard limits, and say plainly how it went.

A fetch never raises: a slow, huge, redirected-forever or failing feed comes back as an `error` result,
so one bad feed cannot stall or break the others. The `outcome` values are the labels a metrics counter
wants (`ok`, `not_modified`, `error`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from service.news.fetched import FetchOutcome, FetchRecord, Validators

USER_AGENT = "moodfeed/0.1 (mood-aware news reader; conditional GET, one fetch per feed per interval)"
_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
_MAX_REDIRECTS = 5
_MAX_CONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One fetch's outcome; `body` is only set for `ok`, `error` only for `error`."""

    url: str
    outcome: FetchOutcome
    elapsed_s: float
    body: bytes = b""
    final_url: str | None = None
    content_type: str | None = None
    validators: Validators = Validators()
    error: str | None = None

    def record(self, unreadable: str | None = None) -> FetchRecord:
        """The fetch as the store keeps it; `unreadable` (why a fetched body would not parse) makes it a
        failure."""
        if unreadable is not None:
            return FetchRecord(self.url, FetchOutcome.ERROR, self.validators, unreadable)
        return FetchRecord(self.url, self.outcome, self.validators, self.error)


class _TooLarge(Exception):
    pass


class _NotPublic(Exception):
    """The feed's host resolves to an address inside a private network, this machine or a cloud's
    metadata service: a feed URL must not become a way to reach those from the server."""


async def public_address(host: str, port: int) -> str:
    """An address of `host` to connect to, if every address it resolves to is public; else `_NotPublic`.

    All of them must be public: a name that resolves to one public and one private address could be
    answered by either.
    """
    try:
        literal = ipaddress.ip_address(host)
        addresses = [literal]
    except ValueError:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses or not all(address.is_global for address in addresses):
        raise _NotPublic
    return str(addresses[0])


def pinned_request(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL rewritten to connect to `address`, with the Host header and TLS name of the original, so
    the host cannot resolve elsewhere between the check and the connection (DNS rebinding)."""
    parts = urlsplit(url)
    netloc = f"[{address}]" if ":" in address else address
    if parts.port:
        netloc += f":{parts.port}"
    host_header = parts.netloc.rpartition("@")[2]
    extensions = {"sni_hostname": parts.hostname or ""} if parts.scheme == "https" else {}
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), {"Host": host_header}, extensions


class Fetcher:
    """An HTTP client for feeds: timeouts, a whole-fetch deadline, a body cap, redirects, conditional GET."""

    def __init__(
        self,
        *,
        timeout_s: float,
        max_bytes: int,
        allow_private: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,  # httpx's default; tests pass a MockTransport
    ):
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.allow_private = allow_private  # a self-hosted feed on a LAN; off, only public addresses
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, _MAX_CONNECT_TIMEOUT_S)),
            follow_redirects=False,  # each hop is followed by hand, its address checked first
            headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT},
            transport=transport,
        )

    async def fetch(self, url: str, validators: Validators = Validators()) -> FetchResult:
        """GET the feed, sending back its validators; a 304 keeps our copy, anything wrong is an error."""
        started = time.monotonic()
        try:
            # httpx's read timeout is per chunk; the deadline also stops a server that drips bytes slowly.
            async with asyncio.timeout(self.timeout_s):
                return await self._get(url, validators, started)
        except (TimeoutError, httpx.TimeoutException):
            return self._error(url, started, f"timed out after {self.timeout_s:g} s")
        except httpx.TooManyRedirects:
            return self._error(url, started, f"more than {_MAX_REDIRECTS} redirects")
        except _NotPublic:
            return self._error(
                url, started, "refused: the feed's address is not public (MOODFEED_FEED_ALLOW_PRIVATE)"
            )
        except OSError:  # name resolution failed
            return self._error(url, started, "the feed's host name does not resolve")
        except _TooLarge:
            return self._error(url, started, f"body larger than {self.max_bytes} bytes")
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return self._error(url, started, f"{type(error).__name__}: {error}".rstrip(": "))
        except ValueError as error:  # a redirect to "http://[::1/x", a host name with an empty label...
            return self._error(url, started, f"not a usable URL: {error}")

    async def _get(self, url: str, validators: Validators, started: float) -> FetchResult:
        conditional = {}
        if validators.etag:
            conditional["If-None-Match"] = validators.etag
        if validators.last_modified:
            conditional["If-Modified-Since"] = validators.last_modified
        location = url
        for _ in range(_MAX_REDIRECTS + 1):
            result = await self._get_once(url, location, conditional, validators, started)
            if isinstance(result, FetchResult):
                return result
            location = result
        raise httpx.TooManyRedirects("too many redirects")

    async def _get_once(
        self,
        url: str,
        location: str,
        conditional: dict[str, str],
        validators: Validators,
        started: float,
    ) -> FetchResult | str:
        """Fetch `location` (one hop of `url`'s redirects): the result, or where it redirects to."""
        parts = httpx.URL(location)
        if parts.scheme not in ("http", "https") or not parts.host:
            raise httpx.InvalidURL(f"not an http(s) URL: {location}")
        extensions: dict[str, str] = {}
        target, headers = location, dict(conditional)
        if not self.allow_private:
            address = await public_address(parts.host, parts.port or (443 if parts.scheme == "https" else 80))
            target, host_header, extensions = pinned_request(location, address)
            headers.update(host_header)
        async with self._client.stream("GET", target, headers=headers, extensions=extensions) as response:
            if response.is_redirect and "Location" in response.headers:
                return urljoin(location, response.headers["Location"])
            if response.status_code == 304:
                renewed = Validators(
                    response.headers.get("ETag") or validators.etag,
                    response.headers.get("Last-Modified") or validators.last_modified,
                )
                return FetchResult(
                    url,
                    FetchOutcome.NOT_MODIFIED,
                    time.monotonic() - started,
                    validators=renewed,
                )
            if response.status_code != 200:
                return self._error(url, started, f"HTTP {response.status_code}")
            body = await self._read_capped(response)
            return FetchResult(
                url,
                FetchOutcome.OK,
                time.monotonic() - started,
                body=body,
                final_url=location,
                content_type=response.headers.get("Content-Type"),
                validators=Validators(response.headers.get("ETag"), response.headers.get("Last-Modified")),
            )

    async def _read_capped(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _TooLarge
        # Counted after decompression, so a small gzip bomb is caught too.
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _error(url: str, started: float, message: str) -> FetchResult:
        return FetchResult(url, FetchOutcome.ERROR, time.monotonic() - started, error=message)

    async def aclose(self) -> None:
        await self._client.aclose()
