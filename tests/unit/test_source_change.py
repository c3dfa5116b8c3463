"""The Aggregator's lean decoder: what a contribution reads of a stream record, exactly as the
full decoder would give it, and nothing else."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from harvest.domain.contribution import contribution_of
from harvest.domain.events import EventError
from harvest.store.items import contribution_source
from harvest.store.stream import SOURCE_ATTRIBUTES, parse_record, parse_source_change

_wire = TypeSerializer().serialize


def _record(new: dict[str, Any] | None, old: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"Keys": {"PK": {"S": "LISTING#l1"}, "SK": {"S": "LISTING"}}}
    if new is not None:
        body["NewImage"] = {name: _wire(value) for name, value in new.items()}
    if old is not None:
        body["OldImage"] = {name: _wire(value) for name, value in old.items()}
    return {"eventName": "MODIFY" if old else "INSERT", "dynamodb": body}


LISTING: dict[str, Any] = {
    "PK": "LISTING#l1",
    "SK": "LISTING",
    "type": "listing",
    "ownerId": "ann",
    "crop": "tomato",
    "unit": "g",
    "quantityTotal": Decimal(2500),
    "quantityRemaining": Decimal("1500.125"),
    "geohash": "u33dbfc",
    "status": "active",
    "version": 7,
    "createdAt": "2026-05-01T23:59:59.999Z",
    "notes": "never decoded",
    "location": {"lat": Decimal("52.5"), "lon": Decimal("13.4")},
}


def test_given_a_listing_record_when_decoded_lean_then_its_contribution_is_the_full_ones() -> None:
    record = _record(LISTING, old={**LISTING, "version": 6})

    lean, full = parse_source_change(record), parse_record(record)

    assert lean.new is not None
    assert full.new is not None
    assert contribution_of(contribution_source(lean.new)) == contribution_of(
        contribution_source(full.new)
    )
    assert lean.new == {name: full.new[name] for name in SOURCE_ATTRIBUTES if name in full.new}
    assert lean.new["quantityRemaining"] == Decimal("1500.125")  # exact, never a float
    assert (lean.keys, lean.old, lean.event_name) == ({"PK": "LISTING#l1"}, None, "MODIFY")


def test_given_a_remove_when_decoded_lean_then_no_new_image() -> None:
    record = {"eventName": "REMOVE", "dynamodb": {"Keys": {"PK": {"S": "LISTING#l1"}}}}

    change = parse_source_change(record)

    assert (change.event_name, change.new) == ("REMOVE", None)


@pytest.mark.parametrize(
    "record",
    [{"eventName": "PUT", "dynamodb": {"Keys": {"PK": {"S": "x"}}}}, {"eventName": "INSERT"}],
)
def test_given_a_malformed_record_when_decoded_lean_then_event_error(
    record: dict[str, Any],
) -> None:
    with pytest.raises(EventError):
        parse_source_change(record)
