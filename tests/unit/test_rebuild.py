"""The rebuild from core items equals what the incremental AggregationService writes, and
drift() reports exactly the differences that matter."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from harvest.domain.events import ItemChange
from harvest.services.aggregation import AggregationService
from harvest.services.rebuild import drift, expected_derived
from harvest.store.presence import presence_key
from support.stored_derived import StoredDerived


def _listing(pk: str, version: int, **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": pk,
        "SK": "LISTING",
        "type": "listing",
        "ownerId": "ann",
        "crop": "tomato",
        "unit": "kg",
        "geohash": "u33dbfc",
        "createdAt": "2026-05-01T10:00:00.000Z",
        "status": "active",
        "quantityRemaining": Decimal("10"),
        "version": version,
    }
    return {**item, **changes}


def _request(pk: str, version: int, **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": pk,
        "SK": "REQUEST",
        "type": "request",
        "ownerId": "bob",
        "crop": "zucchini",
        "unit": "kg",
        "geohash": "u33dbgz",
        "createdAt": "2026-05-01T12:00:00.000Z",
        "status": "open",
        "quantity": Decimal("3"),
        "version": version,
    }
    return {**item, **changes}


HISTORIES = [
    [_listing("LISTING#a", 1), _listing("LISTING#a", 2, quantityRemaining=Decimal("4"))],
    [_listing("LISTING#b", 1, ownerId="cem", unit="g", quantityRemaining=Decimal("2500"))],
    [_listing("LISTING#c", 1), _listing("LISTING#c", 2, status="cancelled")],
    [_request("REQUEST#r", 1), _request("REQUEST#r", 2, quantity=Decimal("5"))],
    [_request("REQUEST#s", 1, ownerId="ann"), _request("REQUEST#s", 2, status="matched")],
]


def _incremental() -> StoredDerived:
    repository = StoredDerived()
    service = AggregationService(repository)
    for states in HISTORIES:
        for state in states:
            keys = {"PK": state["PK"], "SK": state["SK"]}
            inserted = state["version"] == 1
            change = ItemChange("INSERT" if inserted else "MODIFY", keys, None, state)
            service.handle(change, "corr")
    return repository


def test_expected_derived_equals_what_the_incremental_pipeline_writes() -> None:
    finals = [states[-1] for states in HISTORIES]
    claim = {"PK": "CLAIM#x", "SK": "CLAIM", "type": "claim"}

    expected = expected_derived([*finals, claim])

    assert drift(expected, _incremental().items) == []
    # Friday 2026-05-01 is slot 4 of the week starting Monday 2026-04-27 (store.buckets).
    tomato = expected[("AGG#u33db#tomato", "WEEK#2026-04-27")]
    assert tomato["supply4"] == Decimal("6.5")  # 4 kg + 2500 g
    assert (tomato["listings4"], tomato["contributors4"]) == (2, 2)  # ann and cem
    assert expected[presence_key("ann", "u33d", "tomato")["PK"], "IN#u33d#tomato"]["live"] == {
        "u33dbf#2026-05-01": 1  # listing a; c was cancelled
    }
    every = expected[("AGG#u33db#all", "WEEK#2026-04-27")]
    # The crops index: no counters (nothing reads all-crops counts), the live crops.
    assert every["crops4"] == {"tomato", "zucchini"}
    assert {name for name in every if name[-1].isdigit()} == {"crops4"}
    # Only the published precision has buckets (domain.contribution).
    assert {key[0].split("#")[1] for key in expected if key[1].startswith("WEEK#")} == {"u33db"}
    assert expected[("AGG#SRC#LISTING#c", "MARKER")]["version"] == 2
    assert len([key for key in expected if key[0].startswith("AGG#SRC#")]) == 5


def test_drift_reports_a_missing_bucket_a_wrong_supply_and_an_extra_bucket() -> None:
    expected = expected_derived([states[-1] for states in HISTORIES])
    actual = {key: dict(item) for key, item in _incremental().items.items()}
    missing = ("AGG#u33db#zucchini", "WEEK#2026-04-27")
    del actual[missing]
    wrong = ("AGG#u33db#tomato", "WEEK#2026-04-27")
    actual[wrong]["supply4"] = Decimal("99")
    extra = ("AGG#u33db#egg", "WEEK#2026-04-27")
    actual[extra] = {"PK": extra[0], "SK": extra[1], "supply3": Decimal(1), "listings3": 1}
    # A day bucket as stored before buckets held a week: drift, so a rebuild deletes it.
    legacy = ("AGG#u33db#tomato", "DAY#2026-05-01")
    actual[legacy] = {"PK": legacy[0], "SK": legacy[1], "supply": Decimal("6.5"), "version": 2}

    found = {(d.pk, d.sk, d.attribute): (d.expected, d.actual) for d in drift(expected, actual)}

    assert found[(*wrong, "supply4")] == (Decimal("6.5"), Decimal("99"))
    assert found[(*missing, "demand4")] == (Decimal("5"), None)
    assert found[(*missing, "contributors4")] == (Decimal(1), None)
    assert found[(*extra, "supply3")] == (None, Decimal(1))
    assert found[(*extra, "listings3")] == (None, Decimal(1))
    assert found[(*legacy, "supply")] == (None, Decimal("6.5"))
    assert {key[:2] for key in found} == {wrong, missing, extra, legacy}
    line = next(d for d in drift(expected, actual) if d.attribute == "supply4" and d.pk == wrong[0])
    assert line.line() == f"{wrong[0]} {wrong[1]}  supply4  expected=6.5  actual=99"


def test_a_bucket_of_zeros_equals_an_absent_one_and_zero_counters_are_absent() -> None:
    expected = expected_derived([states[-1] for states in HISTORIES])
    actual = {key: dict(item) for key, item in _incremental().items.items()}
    zero = ("AGG#u33db#egg", "WEEK#2026-04-27")
    actual[zero] = {"supply5": Decimal(0), "listings5": 0, "contributors5": 0, "crops5": {"egg"}}
    tomato = ("AGG#u33db#tomato", "WEEK#2026-04-27")
    actual[tomato] = {**actual[tomato], "demand4": Decimal(0), "updatedAt": "later"}
    empty = presence_key("dan", "u33d", "egg")
    actual[(empty["PK"], empty["SK"])] = {**empty, "live": {}, "version": 3}

    assert drift(expected, actual) == []


def test_drift_reports_marker_version_contribution_and_presence() -> None:
    expected = expected_derived([states[-1] for states in HISTORIES])
    actual = {key: dict(item) for key, item in _incremental().items.items()}
    behind = ("AGG#SRC#LISTING#a", "MARKER")
    actual[behind]["version"] = 1
    gone = ("AGG#SRC#REQUEST#r", "MARKER")
    del actual[gone]
    stray = ("AGG#SRC#LISTING#zz", "MARKER")
    actual[stray] = {"PK": stray[0], "SK": stray[1], "version": 1}

    found = {(d.pk, d.attribute): (d.expected, d.actual) for d in drift(expected, actual)}

    assert found == {
        (behind[0], "version"): (2, 1),
        (gone[0], "item"): ("present", None),
        (stray[0], "item"): (None, "present"),
    }


def test_an_expected_crop_missing_from_the_all_crops_bucket_is_drift() -> None:
    expected = expected_derived([states[-1] for states in HISTORIES])
    actual = {key: dict(item) for key, item in _incremental().items.items()}
    every = ("AGG#u33db#all", "WEEK#2026-04-27")
    actual[every]["crops4"] = {"tomato", "egg"}  # extra crops are fine (the set only grows)

    [found] = drift(expected, actual)

    assert (found.attribute, found.expected, found.actual) == (
        "crops4",
        ["tomato", "zucchini"],
        ["egg", "tomato"],
    )
