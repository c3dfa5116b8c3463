"""Matching rules (harvest.domain.matching) and match.suggested from MATCH# stream records."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from harvest.domain import matching
from harvest.domain.events import DetailType, to_put_events_entry
from harvest.domain.listing import ListingStatus
from harvest.domain.matching import MatchEntry, Side
from harvest.domain.request import RequestStatus
from harvest.store.event_models import envelope_model
from harvest.store.stream import events_from_record
from support.feed_world import NOW, listing, request

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "events" / "match.suggested.schema.json"
_serializer = TypeSerializer()


def test_match_ids_join_the_two_ids_and_parse_back() -> None:
    assert matching.match_id("request-01", "listing-01") == "request-01.listing-01"
    assert matching.parse_match_id("request-01.listing-01") == ("request-01", "listing-01")
    for bad in ("request-01", ".listing-01", "request-01.", "a.b.c"):
        assert matching.parse_match_id(bad) is None


def test_eligible_needs_same_crop_both_live_and_the_published_cell_within_the_radius() -> None:
    grower = listing("listing-01", 52.5200, 13.4050)
    near = request("request-01", 52.5290, 13.4050)  # ~1 km north
    assert matching.eligible(grower, near, 5.0, NOW)
    assert not matching.eligible(grower, replace(near, crop="apple"), 5.0, NOW)
    assert not matching.eligible(replace(grower, status=ListingStatus.CANCELLED), near, 5.0, NOW)
    assert not matching.eligible(grower, replace(near, status=RequestStatus.CLOSED), 5.0, NOW)
    far = request("request-02", 52.7000, 13.4050)  # ~20 km
    assert not matching.eligible(grower, far, 5.0, NOW)
    assert matching.eligible(grower, far, 30.0, NOW)


def test_distance_is_between_published_cells_so_the_exact_point_changes_nothing() -> None:
    # Two points of one precision-5 cell: the same distance to anyone.
    a = listing("listing-01", 52.5200, 13.4050)
    b = listing("listing-02", 52.5201, 13.4051)
    assert a.location.geohash[:5] == b.location.geohash[:5]
    r = request("request-01", 52.6000, 13.4050)
    assert (
        matching.entry_for(Side.REQUEST, a, r).distance_m
        == matching.entry_for(Side.REQUEST, b, r).distance_m
    )


def test_entries_rank_by_distance_then_freshness_then_id() -> None:
    r = request("request-01", 52.5200, 13.4050)
    near_old = listing("listing-aa", 52.5200, 13.4050)
    near_new = replace(listing("listing-bb", 52.5200, 13.4050), created_at=NOW)
    far = replace(listing("listing-cc", 52.6000, 13.4050), created_at=NOW + timedelta(hours=1))
    entries = [matching.entry_for(Side.REQUEST, x, r) for x in (far, near_old, near_new)]
    ranked = matching.best(entries)
    assert [e.listing_id for e in ranked] == ["listing-bb", "listing-aa", "listing-cc"]


def test_a_set_is_bounded_and_a_full_set_refuses_a_worse_candidate() -> None:
    r = request("request-01", 52.5200, 13.4050)
    near = [listing(f"listing-{i:02d}", 52.52 + i * 0.01, 13.4050) for i in range(12)]
    entries = matching.best(matching.entry_for(Side.REQUEST, x, r) for x in near)
    assert len(entries) == matching.MAX_MATCHES
    assert matching.worst_rank(entries) == entries[-1].rank()
    worse = matching.entry_for(Side.REQUEST, listing("listing-zz", 52.9, 13.4050), r)
    better = matching.entry_for(Side.REQUEST, listing("listing-00b", 52.5200, 13.4050), r)
    assert not matching.may_enter(entries, worse)
    assert matching.may_enter(entries, better)
    assert matching.worst_rank(entries[:3]) is None
    assert matching.may_enter(entries[:3], worse)


def test_entries_round_trip_through_their_stored_form() -> None:
    entry = matching.entry_for(
        Side.LISTING, listing("listing-01", 52.52, 13.405), request("request-01", 52.53, 13.405)
    )
    assert MatchEntry.from_item(entry.to_item(), Side.LISTING) == entry
    assert entry.other_id == "request-01"


# ---------------------------------------------------------------- match.suggested


def _set_item(entries: list[MatchEntry], version: int, side: Side = Side.REQUEST) -> dict[str, Any]:
    return {
        "PK": f"MATCH#{side.value.upper()}#request-01",
        "SK": "SET",
        "type": matching.MATCH_SET_TYPE,
        "side": side.value,
        "entityId": "request-01",
        "ownerId": "searcher",
        "entries": [entry.to_item() for entry in entries],
        "version": version,
        "createdAt": "2026-05-01T08:00:00.000Z",
        "updatedAt": f"2026-05-01T08:0{version}:00.000Z",
        "correlationId": "corr-m",
    }


def _record(event_name: str, new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    def image(item: dict[str, Any]) -> dict[str, Any]:
        return {name: _serializer.serialize(value) for name, value in item.items()}

    body: dict[str, Any] = {
        "Keys": image({"PK": new["PK"], "SK": new["SK"]}),
        "NewImage": image(new),
    }
    if old is not None:
        body["OldImage"] = image(old)
    return {"eventName": event_name, "dynamodb": body}


def _entries(*ids: str) -> list[MatchEntry]:
    r = request("request-01", 52.52, 13.405)
    return [matching.entry_for(Side.REQUEST, listing(i, 52.53, 13.405), r) for i in ids]


def test_each_entry_new_in_a_set_becomes_one_match_suggested_for_the_sets_owner() -> None:
    old = _set_item(_entries("listing-01"), 1)
    new = _set_item(_entries("listing-01", "listing-02", "listing-03"), 2)

    events = events_from_record(_record("MODIFY", new, old))

    assert [e.entity_id for e in events] == ["request-01.listing-02", "request-01.listing-03"]
    schema = json.loads(SCHEMA.read_text())
    assert schema["properties"]["detailType"]["const"] == "match.suggested"
    for event in events:
        assert event.detail_type is DetailType.MATCH_SUGGESTED
        assert event.source == "harvest.matches"
        assert event.data["recipientId"] == "searcher"
        assert event.data["side"] == "request"
        detail = json.loads(to_put_events_entry(event, "bus")["Detail"])
        envelope_model(DetailType.MATCH_SUGGESTED).model_validate(detail)
        assert not {"lat", "lon", "geohash", "location"} & set(detail["data"])


def test_a_first_set_announces_every_entry_and_a_replay_the_same_ids() -> None:
    new = _set_item(_entries("listing-01", "listing-02"), 1)
    first = events_from_record(_record("INSERT", new, None))
    again = events_from_record(_record("INSERT", new, None))
    assert len(first) == 2
    assert [e.id for e in first] == [e.id for e in again]


def test_a_set_that_only_lost_or_reordered_entries_or_kept_its_version_announces_nothing() -> None:
    old = _set_item(_entries("listing-01", "listing-02"), 1)
    shrunk = _set_item(_entries("listing-02"), 2)
    assert events_from_record(_record("MODIFY", shrunk, old)) == []
    rewritten = _set_item(_entries("listing-01", "listing-02", "listing-03"), 1)
    assert events_from_record(_record("MODIFY", rewritten, old)) == []


def test_a_listings_set_tells_the_grower_about_a_request() -> None:
    grower = listing("listing-01", 52.52, 13.405)
    entry = matching.entry_for(Side.LISTING, grower, request("request-07", 52.53, 13.405))
    new = {**_set_item([entry], 1, Side.LISTING), "ownerId": "grower", "entityId": "listing-01"}
    (event,) = events_from_record(_record("INSERT", new, None))
    assert event.data["recipientId"] == "grower"
    assert event.data["side"] == "listing"
    assert event.data["requestId"] == "request-07"


@pytest.mark.parametrize("missing", ["side", "ownerId", "version"])
def test_a_malformed_set_fails_rather_than_publishing_a_guess(missing: str) -> None:
    new = _set_item(_entries("listing-01"), 1)
    del new[missing]
    with pytest.raises(ValueError, match="malformed match set"):
        events_from_record(_record("INSERT", new, None))
