"""Per-address counts forget an address once it holds nothing."""

from __future__ import annotations

from service.api.client_counts import ClientCounts


def test_an_address_is_forgotten_when_it_holds_none_and_counts_zero_without_being_stored() -> None:
    counts = ClientCounts()
    counts.add("10.0.0.1")
    counts.add("10.0.0.1")
    counts.add("10.0.0.2")

    assert (counts["10.0.0.1"], counts["10.0.0.2"], counts["10.0.0.3"], len(counts)) == (2, 1, 0, 2)
    assert counts.remove("10.0.0.1") is False
    assert counts.remove("10.0.0.1") is True
    assert (counts["10.0.0.1"], len(counts)) == (0, 1)
