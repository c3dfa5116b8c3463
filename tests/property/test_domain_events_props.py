"""Property tests: any pair of listing states yields at most one event, with a stable id, a
public `data` and a Detail that reads back as the same data."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from harvest.domain import geo
from harvest.domain.common import Location
from harvest.domain.events import EVENT_ID_NAMESPACE, DetailType, to_put_events_entry
from harvest.domain.listing import Listing, ListingStatus
from harvest.store.event_models import envelope_model
from harvest.store.items import ListingItem
from harvest.store.stream import events_from_record

_serializer = TypeSerializer()
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

quantities = st.decimals(
    min_value=Decimal("0.001"), max_value=Decimal(1_000_000), places=3, allow_nan=False
)
moments = st.integers(min_value=0, max_value=10**9).map(
    lambda ms: EPOCH + timedelta(milliseconds=ms)
)
listing_ids = st.sampled_from(["listing-0001", "listing-0002"])
versions = st.integers(min_value=1, max_value=6)


@st.composite
def locations(draw: st.DrawFn) -> Location:
    # What clients send: degrees to about 0.1 m (DynamoDB refuses numbers below 1e-130).
    lat = round(draw(st.floats(min_value=-90, max_value=90, allow_nan=False)), 6)
    lon = round(draw(st.floats(min_value=-180, max_value=180, allow_nan=False)), 6)
    return Location(lat, lon, geo.encode(lat, lon, 7))


@st.composite
def listings(draw: st.DrawFn, listing_id: str | None = None) -> Listing:
    total = draw(quantities)
    remaining = draw(st.decimals(min_value=0, max_value=total, places=3, allow_nan=False))
    start = draw(moments)
    created = draw(moments)
    return Listing(
        listing_id=listing_id or draw(listing_ids),
        owner_id=draw(st.sampled_from(["grower-1", "grower-2"])),
        crop=draw(st.sampled_from(["tomato", "apple", "kale"])),
        unit=draw(st.sampled_from(["kg", "each", "bunch"])),
        quantity_total=total,
        quantity_remaining=remaining,
        available_from=start,
        available_until=start + timedelta(hours=draw(st.integers(1, 500))),
        location=draw(locations()),
        notes=draw(st.none() | st.text(max_size=40)),
        status=draw(st.sampled_from(ListingStatus)),
        version=draw(versions),
        created_at=created,
        updated_at=created + timedelta(seconds=draw(st.integers(0, 10**6))),
        correlation_id=draw(st.text(min_size=1, max_size=12)),
    )


@st.composite
def state_pairs(draw: st.DrawFn) -> tuple[Listing, Listing]:
    old = draw(listings())
    return old, draw(listings(listing_id=old.listing_id))


def image(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def modify_record(old: Listing, new: Listing) -> dict[str, Any]:
    old_item, new_item = ListingItem.encode(old), ListingItem.encode(new)
    return {
        "eventID": "e",
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": image({"PK": new_item["PK"], "SK": new_item["SK"]}),
            "OldImage": image(old_item),
            "NewImage": image(new_item),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def holds_any(value: object, names: set[str]) -> bool:
    if isinstance(value, dict):
        return bool(names & set(value)) or any(holds_any(v, names) for v in value.values())
    if isinstance(value, list):
        return any(holds_any(v, names) for v in value)
    return False


def expected_type(old: Listing, new: Listing) -> DetailType | None:
    """The rules, restated independently of the implementation's table."""
    if new.version <= old.version:
        return None
    if new.status is old.status or new.status is ListingStatus.ACTIVE:
        return DetailType.LISTING_UPDATED
    return DetailType(f"listing.{new.status}")


@given(state_pairs())
def test_a_listing_change_yields_no_event_or_exactly_the_one_the_rules_name(
    pair: tuple[Listing, Listing],
) -> None:
    old, new = pair

    events = events_from_record(modify_record(old, new))

    expected = expected_type(old, new)
    assert [event.detail_type for event in events] == ([expected] if expected else [])


@given(state_pairs())
def test_event_id_depends_only_on_entity_id_version_and_type(
    pair: tuple[Listing, Listing],
) -> None:
    old, new = pair

    events = events_from_record(modify_record(old, new))

    for event in events:
        name = json.dumps(["listing", new.listing_id, new.version, event.detail_type.value])
        assert event.id == str(uuid.uuid5(EVENT_ID_NAMESPACE, name))
        # a replay of the record gives the same event, id included
        assert events_from_record(modify_record(old, new)) == events


@given(state_pairs())
def test_data_is_public_and_the_detail_reads_back_as_the_same_data(
    pair: tuple[Listing, Listing],
) -> None:
    old, new = pair

    for event in events_from_record(modify_record(old, new)):
        entry = to_put_events_entry(event, "bus")
        detail = json.loads(entry["Detail"])

        assert not holds_any(dict(event.data), {"lat", "lon", "PK", "SK", "geohash"})
        assert detail["data"] == event.data
        assert detail["id"] == event.id
        assert event.data["area"] == new.location.geohash[:5]
        exact = json.loads(entry["Detail"], parse_float=Decimal)["data"]
        assert exact["quantityTotal"] == new.quantity_total
        assert exact["quantityRemaining"] == new.quantity_remaining
        envelope_model(event.detail_type).model_validate(detail)


@given(listings())
def test_every_new_listing_is_announced_once_as_created(new: Listing) -> None:
    item = ListingItem.encode(new)
    record = {
        "eventName": "INSERT",
        "dynamodb": {"Keys": image({"PK": item["PK"], "SK": item["SK"]}), "NewImage": image(item)},
    }

    [event] = events_from_record(record)

    assert event.detail_type is DetailType.LISTING_CREATED
    assert event.version == new.version
