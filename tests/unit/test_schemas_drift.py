"""schemas/ matches the code: generated files, the sample data set and the item models."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from harvest.cli import sample
from harvest.cli.main import main
from harvest.cli.schemas import drift, generate
from harvest.domain.claim import Claim, ClaimStatus
from harvest.domain.common import Location
from harvest.domain.listing import Listing, ListingStatus
from harvest.domain.profile import Profile
from harvest.domain.request import Request, RequestStatus
from harvest.store.codec import StoredItem, attr
from harvest.store.dynamo import deserialize
from harvest.store.item_schemas import pydantic_model
from harvest.store.items import (
    STORED_ITEM_MODELS,
    ClaimItem,
    ListingItem,
    ProfileItem,
    RequestItem,
    model_for,
)

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
WHEN = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
BERLIN = Location(52.52, 13.405, "u33dc0c")


def sample_file_items() -> list[dict[str, Any]]:
    lines = (SCHEMAS / "sample-data.jsonl").read_text(encoding="utf-8").splitlines()
    return [deserialize(json.loads(line)) for line in lines]


def test_checked_in_schemas_match_the_generator() -> None:
    problems = drift(SCHEMAS, generate())

    assert not problems, "schemas/ drifted from the code; run `make schemas`:\n" + "\n".join(
        problems
    )


def test_generation_is_deterministic() -> None:
    assert generate() == generate()


def test_sample_file_items_validate_against_their_models() -> None:
    items = sample_file_items()

    for item in items:
        pydantic_model(model_for(item["type"])).model_validate(item)
    assert {item["type"] for item in items} == set(STORED_ITEM_MODELS)


def test_entity_schemas_describe_every_attribute_and_never_allow_null() -> None:
    for item_type in STORED_ITEM_MODELS:
        text = (SCHEMAS / "entities" / f"{item_type}.schema.json").read_text(encoding="utf-8")
        schema = json.loads(text)
        assert schema["$id"] == f"entities/{item_type}.schema.json"
        assert schema["additionalProperties"] is False
        assert all(p.get("description") for p in schema["properties"].values()), item_type
        # Sparse attributes are absent in the table, so null is never a valid value.
        assert '"null"' not in text, item_type


def _profile(home: Location | None) -> Profile:
    return Profile("user-1", "Grower", home, 7.5, "supporter", 3, WHEN, WHEN, "corr-1")


def _listing(status: ListingStatus, notes: str | None) -> Listing:
    return Listing(
        "listing-0001", "user-1", "tomato", "kg", Decimal("2.5"), Decimal("0.5"),
        WHEN, WHEN.replace(year=2027), BERLIN, notes, status, 4, WHEN, WHEN, "corr-2",
    )  # fmt: skip


def _request(status: RequestStatus) -> Request:
    return Request(
        "request-0001", "user-2", "apple", "each", Decimal(12), WHEN, BERLIN, None, status,
        1, WHEN, WHEN, "corr-3",
    )  # fmt: skip


def _claim(request_id: str | None, note: str | None) -> Claim:
    return Claim(
        "claim-00001", "listing-0001", "user-2", "user-1", Decimal("0.25"), "kg", request_id,
        note, ClaimStatus.NO_SHOW, 2, WHEN, WHEN, "corr-4",
    )  # fmt: skip


ENCODED_CASES: list[tuple[type[StoredItem], dict[str, Any]]] = [
    (ProfileItem, ProfileItem.encode(_profile(BERLIN))),
    (ProfileItem, ProfileItem.encode(_profile(None))),
    *[(ListingItem, ListingItem.encode(_listing(s, "n"))) for s in ListingStatus],
    (ListingItem, ListingItem.encode(_listing(ListingStatus.ACTIVE, None))),
    *[(RequestItem, RequestItem.encode(_request(s))) for s in RequestStatus],
    (ClaimItem, ClaimItem.encode(_claim("request-0001", "after 5"))),
    (ClaimItem, ClaimItem.encode(_claim(None, None))),
]


@pytest.mark.parametrize(("model", "item"), ENCODED_CASES)
def test_encoded_items_validate_against_their_models_schema(
    model: type[StoredItem], item: dict[str, Any]
) -> None:
    validated = pydantic_model(model).model_validate(item)

    # Round trip: what the schema says is stored is exactly what the model encoded.
    assert validated.model_dump(by_alias=True, exclude_none=True) == item


def test_only_live_listings_may_carry_feed_keys() -> None:
    cancelled = ListingItem.encode(_listing(ListingStatus.CANCELLED, None))
    active = ListingItem.encode(_listing(ListingStatus.ACTIVE, None))

    with pytest.raises(ValidationError, match="GSI3PK"):
        pydantic_model(ListingItem).model_validate(
            {**cancelled, "GSI3PK": active["GSI3PK"], "GSI3SK": active["GSI3SK"]}
        )
    with pytest.raises(ValidationError, match="GSI3PK"):
        pydantic_model(ListingItem).model_validate(
            {k: v for k, v in active.items() if not k.startswith("GSI3")}
        )
    with pytest.raises(ValidationError, match="GSI3SK"):  # sorted by the published cell only
        pydantic_model(ListingItem).model_validate(
            {**active, "GSI3SK": active["geohash"] + "#listing#x"}
        )


def test_models_reject_keys_that_do_not_match_the_ids() -> None:
    item = ClaimItem.encode(_claim(None, None))

    with pytest.raises(ValidationError, match="GSI2PK"):
        pydantic_model(ClaimItem).model_validate({**item, "GSI2PK": "RECEIVED#someone-else"})


def test_models_reject_unknown_and_null_attributes() -> None:
    item = RequestItem.encode(_request(RequestStatus.OPEN))

    with pytest.raises(ValidationError, match="extra"):
        pydantic_model(RequestItem).model_validate({**item, "surprise": "x"})
    with pytest.raises(ValidationError, match="tier"):
        pydantic_model(ProfileItem).model_validate(
            {**ProfileItem.encode(_profile(None)), "tier": "gold"}
        )


def test_sample_listing_quantities_add_up_with_their_claims() -> None:
    for listing in sample.LISTINGS:
        taken = sum(
            (
                claim.quantity
                for claim in sample.CLAIMS
                if claim.listing_id == listing.listing_id
                and claim.status in (ClaimStatus.CONFIRMED, ClaimStatus.COMPLETED)
            ),
            Decimal(0),
        )
        assert listing.quantity_remaining == listing.quantity_total - taken, listing.listing_id


def test_check_command_reports_drift_and_write_repairs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an empty schemas directory, --check fails and names the fix
    assert main(["schemas", "--check", "--dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "access-patterns.md: missing" in captured.out
    assert "run `make schemas`" in captured.err

    # When the generated files are written and the hand-written key design is present
    assert main(["schemas", "--write", "--dir", str(tmp_path)]) == 0
    shutil.copy(SCHEMAS / "key-design.md", tmp_path / "key-design.md")

    # Then --check passes, until a generated file is edited or a stale schema appears
    assert main(["schemas", "--check", "--dir", str(tmp_path)]) == 0
    (tmp_path / "access-patterns.json").write_text("{}", encoding="utf-8")
    (tmp_path / "entities" / "gone.schema.json").write_text("{}", encoding="utf-8")
    capsys.readouterr()
    assert main(["schemas", "--check", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "access-patterns.json: differs from the code" in out
    assert "entities/gone.schema.json" in out


def test_workbench_model_holds_every_sample_item_in_its_facet() -> None:
    model = json.loads(generate()["nosql-workbench.json"])
    [table] = model["DataModel"]
    facets = {facet["FacetName"]: facet for facet in table["TableFacets"]}

    assert len(table["TableData"]) == len(sample.sample_items())
    assert set(facets) == set(STORED_ITEM_MODELS)
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == [
        "OwnerIndex",
        "GeoIndex",
        "FeedIndex",
        "CropIndex",
        "DueIndex",
    ]
    for name, facet in facets.items():
        assert facet["TableData"], name
        assert all(row["type"] == {"S": name} for row in facet["TableData"])


def test_an_entity_and_a_model_that_name_different_attributes_cannot_encode() -> None:
    # Encoding stores each entity field as the model's attribute of the same name: a model
    # attribute no field fills (or a field the model lacks) fails the first encode, loudly.
    @dataclass(frozen=True, kw_only=True)
    class WithGrade(ListingItem):
        grade: str | None = attr(default=None, description="Quality grade.")

    with pytest.raises(TypeError, match=r"only the model has \['grade'\]"):
        WithGrade.encode(_listing(ListingStatus.ACTIVE, None))
    assert WithGrade.entity() is Listing


def test_an_attribute_no_sample_sets_takes_its_models_example_on_the_first_sample() -> None:
    # Only the tomato listing has notes; without it, the model's example fills them in once.
    @dataclass(frozen=True, kw_only=True)
    class NotesExample(ListingItem):
        notes: str | None = attr(default=None, examples=["Bring a box."])

    without_notes = sample.LISTINGS[1:]
    assert all(listing.notes is None for listing in without_notes)
    filled = sample._every_attribute_once(NotesExample, without_notes)
    assert filled[0].notes == "Bring a box."
    assert filled[0].listing_id == without_notes[0].listing_id
    assert filled[1:] == without_notes[1:]
    assert sample._every_attribute_once(NotesExample, sample.LISTINGS) == sample.LISTINGS
