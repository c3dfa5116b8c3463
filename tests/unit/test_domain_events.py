"""Stream records of core items -> domain events: type rules, envelope, privacy, PutEvents."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from harvest.cli.main import main
from harvest.cli.schemas import generate
from harvest.domain.claim import Claim, ClaimStatus
from harvest.domain.common import Location
from harvest.domain.events import (
    ENTITY_RULES,
    MAX_ENTRY_BYTES,
    DetailType,
    DomainEvent,
    EventError,
    EventTooLarge,
    entry_size,
    event_id,
    to_put_events_entry,
)
from harvest.domain.insight import windows_to_stored
from harvest.domain.listing import Listing, ListingStatus
from harvest.domain.matching import PUBLISHED_MATCH_ATTRIBUTES
from harvest.domain.profile import Profile
from harvest.domain.request import Request, RequestStatus
from harvest.domain.signals import compute_signals, inputs_digest
from harvest.store import keys
from harvest.store.event_models import DATA_MODELS, ListingData, envelope_model, published_model
from harvest.store.items import (
    PUBLISHED_ATTRIBUTES,
    ClaimItem,
    ListingItem,
    ProfileItem,
    RequestItem,
)
from harvest.store.stream import decode_image, events_from_record, parse_record

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
BUS = "harvest-events"
CREATED = datetime(2026, 5, 1, 8, 0, 0, 125000, tzinfo=UTC)
BERLIN = Location(52.520008, 13.404954, "u33dbfc")
_serializer = TypeSerializer()

Item = dict[str, Any]


# ---------------------------------------------------------------- arranging


def image(item: Item) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def record(
    event_name: str,
    *,
    old: Item | None = None,
    new: Item | None = None,
    ttl: bool = False,
    event_id_: str = "1",
) -> dict[str, Any]:
    """A record as Lambda delivers it in event["Records"] (lower-case userIdentity)."""
    some = new if new is not None else old
    assert some is not None
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": 1_777_622_400,
        "Keys": image({"PK": some["PK"], "SK": some["SK"]}),
        "SequenceNumber": "100000000000000000001",
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if new is not None:
        body["NewImage"] = image(new)
    if old is not None:
        body["OldImage"] = image(old)
    result: dict[str, Any] = {
        "eventID": event_id_,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-central-1",
        "dynamodb": body,
        "eventSourceARN": "arn:aws:dynamodb:eu-central-1:123456789012:table/harvest/stream/x",
    }
    if ttl:
        result["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return result


def listing(
    status: ListingStatus = ListingStatus.ACTIVE,
    version: int = 1,
    remaining: Decimal = Decimal("2.5"),
    notes: str | None = "by the gate",
) -> Listing:
    return Listing(
        "listing-0001", "grower-1", "tomato", "kg", Decimal("2.5"), remaining, CREATED,
        CREATED + timedelta(days=2), BERLIN, notes, status, version, CREATED,
        CREATED + timedelta(minutes=version), f"corr-{version}",
    )  # fmt: skip


def request(status: RequestStatus = RequestStatus.OPEN, version: int = 1) -> Request:
    return Request(
        "request-0001", "searcher-1", "apple", "each", Decimal(12), CREATED + timedelta(days=3),
        BERLIN, None, status, version, CREATED, CREATED + timedelta(minutes=version), "corr-r",
    )  # fmt: skip


def claim(status: ClaimStatus = ClaimStatus.PENDING, version: int = 1) -> Claim:
    return Claim(
        "claim-000001", "listing-0001", "searcher-1", "grower-1", Decimal("0.75"), "kg",
        "request-0001", "after 5", status, version, CREATED,
        CREATED + timedelta(minutes=version), "corr-c",
    )  # fmt: skip


def profile(version: int = 1, home: Location | None = BERLIN) -> Profile:
    return Profile(
        "grower-1", "Ada", home, 7.5, "supporter", version, CREATED,
        CREATED + timedelta(minutes=version), "corr-p",
    )  # fmt: skip


def modify(old: Item, new: Item) -> list[DomainEvent]:
    return events_from_record(record("MODIFY", old=old, new=new))


def insert(new: Item) -> list[DomainEvent]:
    return events_from_record(record("INSERT", new=new))


def guidance_item(version: int = 1) -> Item:
    return {
        "PK": "GUIDANCE#guide-0001",
        "SK": "GUIDANCE",
        "GSI1PK": keys.owner_pk("grower-1"),
        "GSI1SK": "GUIDANCE#2026-05-01T08:00:00.125Z#guide-0001",
        "type": "guidance",
        "guidanceId": "guide-0001",
        "ownerId": "grower-1",
        "crop": "tomato",
        "area": "u33db",
        "tier": "pro",
        # Not in the event model: an attribute a later change might add, never published.
        "status": "pending",
        "version": version,
        "createdAt": "2026-05-01T08:00:00.125Z",
        "updatedAt": "2026-05-01T08:00:00.125Z",
        "correlationId": "corr-g",
    }


def contains_key(value: object, names: set[str]) -> bool:
    if isinstance(value, dict):
        return bool(names & set(value)) or any(contains_key(v, names) for v in value.values())
    if isinstance(value, list):
        return any(contains_key(v, names) for v in value)
    return False


# ---------------------------------------------------------------- INSERT


def test_new_listing_becomes_listing_created_with_its_envelope() -> None:
    item = ListingItem.encode(listing())

    [event] = insert(item)

    assert event.detail_type is DetailType.LISTING_CREATED
    assert event.source == "harvest.listings"
    assert (event.entity_type, event.entity_id, event.version) == ("listing", "listing-0001", 1)
    assert event.occurred_at == item["updatedAt"] == "2026-05-01T08:01:00.125Z"
    assert event.correlation_id == "corr-1"
    assert event.id == event_id("listing", "listing-0001", 1, "listing.created")


@pytest.mark.parametrize(
    ("item", "expected", "source"),
    [
        (RequestItem.encode(request()), DetailType.REQUEST_CREATED, "harvest.requests"),
        (ClaimItem.encode(claim()), DetailType.CLAIM_CREATED, "harvest.claims"),
        # PUT /me upserts: the first write of a profile is announced as an update too
        (ProfileItem.encode(profile()), DetailType.PROFILE_UPDATED, "harvest.profiles"),
    ],
)
def test_new_core_items_become_their_entitys_first_event(
    item: Item, expected: DetailType, source: str
) -> None:
    [event] = insert(item)

    assert event.detail_type is expected
    assert event.source == source
    assert event.entity_type == item["type"]


def test_new_guidance_item_is_guidance_requested_with_only_its_listed_attributes() -> None:
    [event] = insert(guidance_item())

    assert event.detail_type is DetailType.GUIDANCE_REQUESTED
    assert event.source == "harvest.guidances"
    assert event.entity_id == "guide-0001"
    # By inclusion (issue 14): `status` is on the item but not in GuidanceData, so not sent
    assert event.data == {
        "guidanceId": "guide-0001",
        "ownerId": "grower-1",
        "crop": "tomato",
        "area": "u33db",
        "tier": "pro",
        "version": 1,
        "createdAt": "2026-05-01T08:00:00.125Z",
        "updatedAt": "2026-05-01T08:00:00.125Z",
    }
    envelope_model(event.detail_type).model_validate(event.envelope())


def test_a_later_write_of_a_guidance_request_is_not_announced_again() -> None:
    assert modify(guidance_item(1), {**guidance_item(2), "status": "ready"}) == []


# ---------------------------------------------------------------- MODIFY


L, R, C = ListingStatus, RequestStatus, ClaimStatus
STATUS_CASES: list[tuple[Item, Item, DetailType]] = [
    (
        ListingItem.encode(listing(L.ACTIVE, 1)),
        ListingItem.encode(listing(L.CLAIMED, 2, remaining=Decimal(0))),
        DetailType.LISTING_CLAIMED,
    ),
    (
        ListingItem.encode(listing(L.CLAIMED, 2, remaining=Decimal(0))),
        ListingItem.encode(listing(L.ACTIVE, 3, remaining=Decimal("0.5"))),
        DetailType.LISTING_UPDATED,  # a confirmed claim released quantity
    ),
    *[
        (
            ListingItem.encode(listing(L.ACTIVE, 4)),
            ListingItem.encode(listing(target, 5)),
            DetailType(f"listing.{target}"),
        )
        for target in (L.COMPLETED, L.EXPIRED, L.CANCELLED)
    ],
    *[
        (
            RequestItem.encode(request(R.OPEN, 1)),
            RequestItem.encode(request(target, 2)),
            DetailType(f"request.{target}"),
        )
        for target in (R.MATCHED, R.CLOSED, R.CANCELLED)
    ],
    (
        ClaimItem.encode(claim(C.PENDING, 1)),
        ClaimItem.encode(claim(C.CONFIRMED, 2)),
        DetailType.CLAIM_CONFIRMED,
    ),
    *[
        (
            ClaimItem.encode(claim(C.CONFIRMED, 2)),
            ClaimItem.encode(claim(target, 3)),
            DetailType(f"claim.{target}"),
        )
        for target in (C.COMPLETED, C.CANCELLED, C.NO_SHOW)
    ],
    (
        ClaimItem.encode(claim(C.PENDING, 1)),
        ClaimItem.encode(claim(C.CANCELLED, 2)),
        DetailType.CLAIM_CANCELLED,
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"), STATUS_CASES, ids=[str(case[2]) for case in STATUS_CASES]
)
def test_status_change_becomes_the_event_of_the_new_status(
    old: Item, new: Item, expected: DetailType
) -> None:
    [event] = modify(old, new)

    assert event.detail_type is expected
    assert event.version == new["version"]
    assert event.data["status"] == new["status"]
    envelope_model(expected).model_validate_json(to_put_events_entry(event, BUS)["Detail"])


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            ListingItem.encode(listing(version=1, notes="by the gate")),
            ListingItem.encode(listing(version=2, notes="ring twice")),
            DetailType.LISTING_UPDATED,
        ),
        (
            RequestItem.encode(request(version=1)),
            {**RequestItem.encode(request(version=2)), "notes": "green ones too"},
            DetailType.REQUEST_UPDATED,
        ),
        (
            ProfileItem.encode(profile(1)),
            ProfileItem.encode(replace(profile(2), display_name="Ada L.")),
            DetailType.PROFILE_UPDATED,
        ),
    ],
)
def test_change_without_status_change_becomes_updated(
    old: Item, new: Item, expected: DetailType
) -> None:
    [event] = modify(old, new)

    assert event.detail_type is expected


def test_claim_rewritten_without_status_change_is_no_event() -> None:
    # Claims change only by status; there is no claim.updated in the contract.
    old = ClaimItem.encode(claim(C.PENDING, 1))

    assert modify(old, ClaimItem.encode(claim(C.PENDING, 2))) == []


@pytest.mark.parametrize("new_version", [1, 0], ids=["same version", "older version"])
def test_modify_whose_version_did_not_increase_is_no_event(new_version: int) -> None:
    old = ListingItem.encode(listing(L.ACTIVE, 1))
    new = {**ListingItem.encode(listing(L.CANCELLED, 1)), "version": new_version}

    assert modify(old, new) == []


def test_modify_without_old_image_is_refused_rather_than_guessed() -> None:
    broken = record("MODIFY", new=ListingItem.encode(listing(version=2)))

    with pytest.raises(EventError, match="OldImage"):
        events_from_record(broken)


def test_every_status_of_every_entity_maps_to_a_published_type_or_update() -> None:
    for status in ListingStatus:
        expected = "listing.updated" if status is L.ACTIVE else f"listing.{status}"
        assert ENTITY_RULES["listing"].on_status.get(status, DetailType.LISTING_UPDATED) == expected
    for request_status in RequestStatus:
        expected = "request.updated" if request_status is R.OPEN else f"request.{request_status}"
        rules = ENTITY_RULES["request"]
        assert rules.on_status.get(request_status, rules.on_update) == expected
    assert {f"claim.{s}" for s in ClaimStatus if s is not C.PENDING} == {
        str(t) for t in ENTITY_RULES["claim"].on_status.values()
    }


# ---------------------------------------------------------------- never events


def test_ttl_deletion_is_parsed_as_such_and_never_becomes_an_event() -> None:
    idempotency = {
        **keys.idempotency_key("grower-1", "key-1"),
        "type": "idempotency",
        "entityType": "listing",
        "entityId": "listing-0001",
        "expiresAt": 1_777_708_800,
        "version": 1,
    }
    ttl_record = record("REMOVE", old=idempotency, ttl=True)

    change = parse_record(ttl_record)

    assert change.is_ttl_delete
    assert (change.event_name, change.new) == ("REMOVE", None)
    assert change.keys == keys.idempotency_key("grower-1", "key-1")
    assert events_from_record(ttl_record) == []


def test_ttl_identity_is_recognised_with_the_streams_apis_capitalised_keys() -> None:
    replayed = record("REMOVE", old=ListingItem.encode(listing()))
    replayed["userIdentity"] = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}

    assert parse_record(replayed).is_ttl_delete
    assert events_from_record(replayed) == []


def test_user_remove_of_a_core_item_is_no_event_and_not_a_ttl_delete() -> None:
    # The API never deletes core items (cancel is a status change); see domain.events.
    removal = record("REMOVE", old=ListingItem.encode(listing()))

    assert not parse_record(removal).is_ttl_delete
    assert events_from_record(removal) == []


def test_idempotency_records_and_usage_counters_never_become_events() -> None:
    idempotency = {**keys.idempotency_key("grower-1", "key-1"), "type": "idempotency"}
    usage = {"PK": "USAGE#grower-1#2026-05-01", "SK": "USAGE", "type": "usage", "count": 3}
    # even if one carried an entity's type, its key family decides
    disguised = {**ListingItem.encode(listing()), "PK": "USAGE#grower-1#2026-05-01"}

    for item in (idempotency, usage, disguised):
        assert insert({**item, "version": 1}) == [], item["PK"]


@pytest.mark.parametrize(
    "pk", ["AGG#u33d#tomato#2026-05-01", "INSIGHT#u33d", "AICACHE#abc", "AIUSAGE#2026-05-01"]
)
def test_derived_items_never_become_events(pk: str) -> None:
    # A derived item shaped like a listing still is not core: consumers' writes never publish
    # (the insight family publishes insight items only, see the next test).
    derived = {**ListingItem.encode(listing()), "PK": pk, "SK": "BUCKET"}

    assert insert(derived) == []
    assert modify(derived, {**derived, "version": 2}) == []


def _insight_item(version: int, as_of: str = "2026-05-01") -> Item:
    signals = compute_signals("u33dc", date.fromisoformat(as_of), [])
    return {
        "PK": "INSIGHT#u33dc",
        "SK": "CURRENT",
        "type": "insight",
        "area": "u33dc",
        "asOfDay": as_of,
        "inputVersion": 12,
        "windows": windows_to_stored(signals.windows),
        "digests": {str(w.days): inputs_digest(w) for w in signals.windows},
        "version": version,
        "createdAt": "2026-05-01T08:00:00.000Z",
        "updatedAt": "2026-05-01T08:00:00.000Z",
        "correlationId": "corr-insight",
    }


def test_a_new_insight_version_is_insight_generated_and_a_guard_move_is_not() -> None:
    [event] = insert(_insight_item(1))
    assert (event.detail_type.value, event.entity_id, event.version) == (
        "insight.generated",
        "u33dc",
        1,
    )
    assert event.correlation_id == "corr-insight"
    assert event.data["area"] == "u33dc"
    assert "PK" not in event.data
    # The bucket write counter moves with hidden growers' activity too: never published.
    assert "inputVersion" not in event.data
    [changed] = modify(_insight_item(1), _insight_item(2))
    assert changed.id != event.id
    # advance(): the guard moved (asOfDay), the version did not -> nothing to announce
    assert modify(_insight_item(2), {**_insight_item(2, "2026-05-02")}) == []


def test_item_of_unknown_type_under_a_core_prefix_is_no_event() -> None:
    assert insert({"PK": "USER#grower-1", "SK": "SETTINGS", "type": "settings"}) == []


# ---------------------------------------------------------------- data: the public view


def test_listing_data_is_the_public_view_without_keys_or_coordinates() -> None:
    [event] = insert(ListingItem.encode(listing()))

    assert event.data == {
        "listingId": "listing-0001",
        "ownerId": "grower-1",
        "crop": "tomato",
        "unit": "kg",
        "quantityTotal": 2.5,
        "quantityRemaining": 2.5,
        "availableFrom": "2026-05-01T08:00:00.125Z",
        "availableUntil": "2026-05-03T08:00:00.125Z",
        "area": "u33db",
        "status": "active",
        "version": 1,
        "createdAt": "2026-05-01T08:00:00.125Z",
        "updatedAt": "2026-05-01T08:01:00.125Z",
        "notes": "by the gate",
    }


@pytest.mark.parametrize(
    "item",
    [
        ListingItem.encode(listing()),
        RequestItem.encode(request()),
        ClaimItem.encode(claim()),
        ProfileItem.encode(profile()),
        guidance_item(),
    ],
    ids=lambda item: str(item["type"]),
)
def test_data_never_holds_coordinates_or_key_attributes(item: Item) -> None:
    [event] = insert(item)
    detail = to_put_events_entry(event, BUS)["Detail"]

    assert not contains_key(dict(event.data), {"lat", "lon", "geohash", "PK", "SK"})
    assert not [name for name in event.data if name.startswith("GSI")]
    assert "52.52" not in detail
    assert "13.40" not in detail


def test_profile_home_point_is_published_as_its_public_cell_only() -> None:
    [with_home] = insert(ProfileItem.encode(profile(home=BERLIN)))
    [without_home] = insert(ProfileItem.encode(profile(home=None)))

    assert with_home.data["homeLocation"] == {"area": "u33db"}
    assert "homeLocation" not in without_home.data
    assert with_home.data["shareRadiusKm"] == 7.5


def test_decimals_are_published_as_json_numbers_with_exactly_their_value() -> None:
    item = {
        **ListingItem.encode(listing()),
        "quantityTotal": Decimal("1234567.125"),
        "quantityRemaining": Decimal("100.000"),
    }

    [event] = insert(item)
    detail = to_put_events_entry(event, BUS)["Detail"]
    published = json.loads(detail, parse_float=Decimal)["data"]

    assert published["quantityTotal"] == Decimal("1234567.125")
    assert published["quantityRemaining"] == 100
    assert isinstance(published["quantityRemaining"], int)
    assert '"quantityTotal":1234567.125' in detail


def test_number_no_json_number_can_carry_exactly_is_refused_not_rounded() -> None:
    item = {**ListingItem.encode(listing()), "quantityTotal": Decimal("0.12345678901234567891")}

    with pytest.raises(EventError, match="exactly"):
        insert(item)


def test_stream_images_decode_numbers_exactly_and_binary_from_base64() -> None:
    decoded = decode_image(
        {
            "n": {"N": "0.12345678901234567891"},
            "b": {"B": "aGk="},
            "m": {"M": {"l": {"L": [{"BS": ["aGk="]}, {"S": "x"}]}}},
        }
    )

    assert decoded == {
        "n": Decimal("0.12345678901234567891"),
        "b": b"hi",
        "m": {"l": [{b"hi"}, "x"]},
    }


# ---------------------------------------------------------------- ids


def test_replayed_record_produces_the_same_event_id() -> None:
    old = ListingItem.encode(listing(L.ACTIVE, 1))
    new = ListingItem.encode(listing(L.CLAIMED, 2, remaining=Decimal(0)))

    [first] = events_from_record(record("MODIFY", old=old, new=new, event_id_="a"))
    [replay] = events_from_record(record("MODIFY", old=old, new=new, event_id_="b"))

    assert first == replay
    assert uuid.UUID(first.id).version == 5


def test_event_ids_differ_across_versions_types_and_entities() -> None:
    [v1] = insert(ListingItem.encode(listing(version=1)))
    [v2] = modify(ListingItem.encode(listing(version=1)), ListingItem.encode(listing(version=2)))
    [other] = insert(RequestItem.encode(request()))

    assert len({v1.id, v2.id, other.id}) == 3
    assert event_id("listing", "listing-0001", 2, "listing.updated") == v2.id
    assert event_id("listing", "listing-0001", 2, "listing.claimed") != v2.id


def test_event_ids_are_pinned_so_a_redeploy_never_changes_them() -> None:
    # Subscribers dedupe on ids they stored earlier: namespace and name format are a contract.
    assert event_id("listing", "listing-0001", 2, "listing.updated") == (
        "3ea10941-bbb4-59a4-8226-5422833dbce1"
    )
    same_type_next_version = event_id("listing", "listing-0001", 3, "listing.updated")
    assert same_type_next_version != "3ea10941-bbb4-59a4-8226-5422833dbce1"


# ---------------------------------------------------------------- PutEvents


def test_put_events_entry_has_the_documented_shape() -> None:
    [event] = insert(ClaimItem.encode(claim()))

    entry = to_put_events_entry(event, BUS)

    assert set(entry) == {"Source", "DetailType", "Detail", "EventBusName", "Time", "Resources"}
    assert entry["Source"] == "harvest.claims"
    assert entry["DetailType"] == "claim.created"
    assert entry["EventBusName"] == BUS
    assert entry["Time"] == event.occurred_at
    assert entry["Resources"] == []
    assert json.loads(entry["Detail"]) == {
        "id": event.id,
        "source": "harvest.claims",
        "detailType": "claim.created",
        "occurredAt": event.occurred_at,
        "correlationId": "corr-c",
        "entityType": "claim",
        "entityId": "claim-000001",
        "version": 1,
        "data": event.data,
    }
    json.dumps(entry)  # the whole entry is JSON: the local bus writes it as a line


def test_entry_of_exactly_256_kb_is_accepted_and_one_byte_more_is_refused() -> None:
    [small] = insert(ListingItem.encode(listing(notes="")))
    room = MAX_ENTRY_BYTES - entry_size(to_put_events_entry(small, BUS))
    fits = replace(small, data={**small.data, "notes": "x" * room})
    too_big = replace(small, data={**small.data, "notes": "x" * (room + 1)})

    assert entry_size(to_put_events_entry(fits, BUS)) == MAX_ENTRY_BYTES
    with pytest.raises(EventTooLarge, match="262145 bytes"):
        to_put_events_entry(too_big, BUS)


def test_entry_size_is_counted_as_eventbridge_documents_it() -> None:
    # Time counts 14 bytes whatever its format; EventBusName does not count.
    [event] = insert(ListingItem.encode(listing()))
    entry = to_put_events_entry(event, BUS)

    expected = 14 + len(b"harvest.listings") + len(b"listing.created")
    expected += len(entry["Detail"].encode("utf-8"))
    assert entry_size(entry) == expected
    assert entry_size({**entry, "Resources": ["arn:x"]}) == expected + 5


def test_entry_size_counts_utf8_bytes_not_characters() -> None:
    [event] = insert(ListingItem.encode(listing(notes="ä" * (MAX_ENTRY_BYTES // 2))))

    with pytest.raises(EventTooLarge):
        to_put_events_entry(event, BUS)


# ---------------------------------------------------------------- schemas/events


def test_every_detail_type_has_a_generated_schema_with_its_constants() -> None:
    files = generate()

    for detail_type in DetailType:
        relative = f"events/{detail_type}.schema.json"
        schema = json.loads((SCHEMAS / relative).read_text(encoding="utf-8"))
        assert files[relative] == (SCHEMAS / relative).read_text(encoding="utf-8")
        assert schema["$id"] == relative
        assert schema["properties"]["detailType"]["const"] == detail_type.value
        assert (
            schema["properties"]["source"]["const"] == ENTITY_RULES[detail_type.entity_type].source
        )
        assert schema["properties"]["source"]["const"].startswith(
            f"harvest.{detail_type.entity_type}"
        )
        assert '"null"' not in files[relative]


def test_schema_check_reports_a_stale_event_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schemas", "--write", "--dir", str(tmp_path)]) == 0
    (tmp_path / "key-design.md").write_text("# keys\n", encoding="utf-8")
    assert main(["schemas", "--check", "--dir", str(tmp_path)]) == 0

    (tmp_path / "events" / "listing.deleted.schema.json").write_text("{}", encoding="utf-8")
    (tmp_path / "events" / "claim.created.schema.json").unlink()
    capsys.readouterr()

    assert main(["schemas", "--check", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "events/listing.deleted.schema.json: no domain event has this detail-type" in out
    assert "events/claim.created.schema.json: missing" in out


def test_published_detail_is_rejected_by_the_schema_of_another_type() -> None:
    [event] = insert(ListingItem.encode(listing()))
    detail = to_put_events_entry(event, BUS)["Detail"]

    envelope_model(DetailType.LISTING_CREATED).model_validate_json(detail)
    with pytest.raises(ValueError, match="detailType"):
        envelope_model(DetailType.LISTING_UPDATED).model_validate_json(detail)
    with pytest.raises(ValueError, match="lat"):
        envelope_model(DetailType.LISTING_CREATED).model_validate(
            {**event.envelope(), "data": {**event.data, "lat": 52.52}}
        )


def test_each_entity_publishes_exactly_the_fields_of_its_event_model() -> None:
    # The publisher reads what the stored models mark `published` (no pydantic on its path);
    # the event model is the schema subscribers get: the two must name the same fields.
    from_models = {
        entity: frozenset(info.alias or name for name, info in model.model_fields.items())
        for entity, model in DATA_MODELS.items()
    }
    assert from_models == PUBLISHED_ATTRIBUTES | {"match": PUBLISHED_MATCH_ATTRIBUTES}


def test_an_attribute_published_as_stored_is_taken_from_the_stored_model() -> None:
    # What `published` lists and the event model does not declare comes from the stored
    # model with its type and constraints: a new optional field is listed once, and its
    # event schema still refuses what the table would refuse.
    extended = published_model(
        ListingData, ListingItem, PUBLISHED_ATTRIBUTES["listing"] | {"correlationId"}
    )
    assert extended.__name__ == "ListingData"
    assert "correlation_id" in extended.model_fields
    assert "correlation_id" not in ListingData.model_fields
    base = {
        "listingId": "lst-ana-tomato", "ownerId": "u", "crop": "tomato", "unit": "kg",
        "area": "u33db",
        "quantityTotal": 2, "quantityRemaining": 1, "availableFrom": "2026-05-01T08:00:00.000Z",
        "availableUntil": "2026-05-02T08:00:00.000Z", "status": "active", "version": 1,
        "createdAt": "2026-05-01T08:00:00.000Z", "updatedAt": "2026-05-01T08:00:00.000Z",
    }  # fmt: skip
    assert (
        extended.model_validate({**base, "correlationId": "c-1"}).model_dump(by_alias=True)[
            "correlationId"
        ]
        == "c-1"
    )
    with pytest.raises(ValueError, match="correlationId"):
        extended.model_validate({**base, "correlationId": ""})  # min_length=1, as stored
    declared = frozenset({"listingId", "area", "quantityTotal"})
    assert published_model(ListingData, ListingItem, declared) is ListingData
    with pytest.raises(KeyError):
        published_model(ListingData, ListingItem, frozenset({"noSuchAttribute"}))
