"""Service support: page sizes, request fingerprints and the compare-and-swap retries."""

from __future__ import annotations

import pytest

from harvest.domain.errors import (
    InsufficientQuantity,
    RetryableConflict,
    ServiceUnavailable,
)
from harvest.services.support import (
    CAS_ATTEMPTS,
    MAX_PAGE_SIZE,
    fingerprint,
    page_size,
    with_cas_retries,
)
from support.service_world import (
    listing_draft,
)


def test_page_size_defaults_and_clamps_to_one_to_max() -> None:
    assert page_size(None) == 20
    assert page_size(None, default=5) == 5
    assert page_size(-3) == 1
    assert page_size(7) == 7
    assert page_size(10_000) == MAX_PAGE_SIZE


def test_fingerprint_is_stable_and_tells_kinds_and_bodies_apart() -> None:
    draft = listing_draft()

    assert fingerprint("listing", draft) == fingerprint("listing", listing_draft())
    assert fingerprint("listing", draft) != fingerprint("request", draft)
    assert fingerprint("listing", draft) != fingerprint("listing", listing_draft(notes="x"))
    assert fingerprint("k", {"a": 1}) == fingerprint("k", {"a": 1})


def test_with_cas_retries_returns_first_success_after_conflicts() -> None:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RetryableConflict(["listing"])
        return "done"

    assert with_cas_retries(attempt) == "done"
    assert len(calls) == 3


def test_with_cas_retries_gives_up_with_service_unavailable() -> None:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        raise RetryableConflict(["listing"])

    with pytest.raises(ServiceUnavailable, match="contention"):
        with_cas_retries(attempt)
    assert len(calls) == CAS_ATTEMPTS


def test_with_cas_retries_lets_domain_errors_through_at_once() -> None:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        raise InsufficientQuantity("gone")

    with pytest.raises(InsufficientQuantity):
        with_cas_retries(attempt)
    assert len(calls) == 1
