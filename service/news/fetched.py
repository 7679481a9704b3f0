"""What one fetch of a feed left behind, as the fetcher reports it and the store keeps it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FetchOutcome(StrEnum):
    """How a fetch ended: new content, the server's 304 (our copy is current), or a failure."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Validators:
    """What the server told us last time, sent back for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """What the store keeps of a fetch: how it ended, the validators for the next one, and why it failed."""

    url: str
    outcome: FetchOutcome
    validators: Validators = Validators()
    error: str | None = None
