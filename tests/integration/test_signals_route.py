"""GET /communities/{geohash}/signals through the real handler, over buckets written by the
real aggregator from the items the API stored (delivered as the stream would deliver them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harvest.consumers import derivation
from support import payloads
from support.apigw import Api
from support.stored_records import LongContext, stored_item_record

AREA = "u33d"  # payloads.BERLIN is u33dc...


@pytest.fixture(autouse=True)
def fresh_aggregator(table: str) -> Iterator[None]:
    derivation.derivation.reset()
    yield
    derivation.derivation.reset()


def _seed(api: Api, dynamodb: Any, table: str) -> None:
    """Tomato: 3 growers x 10 kg and 3 requests of 1 kg (k of each kind); zucchini: 2 growers."""
    pks: list[str] = []
    for user in ("grower-a", "grower-b", "grower-c"):
        made = api.post("/listings", payloads.listing(quantity=10), user=user)
        assert made.status == 201, made.body
        pks.append(f"LISTING#{made.body['listingId']}")
    for user in ("grower-a", "grower-b"):
        made = api.post("/listings", payloads.listing(crop="zucchini", quantity=4), user=user)
        assert made.status == 201, made.body
        pks.append(f"LISTING#{made.body['listingId']}")
    for user in ("searcher-a", "searcher-b", "searcher-c"):
        asked = api.post("/requests", payloads.request(quantity=1000, unit="g"), user=user)
        assert asked.status == 201, asked.body
        pks.append(f"REQUEST#{asked.body['requestId']}")
    records = [stored_item_record(dynamodb, table, pk, n) for n, pk in enumerate(pks, start=1)]
    # Delivered twice: the effect must be exactly once.
    response = derivation.handler({"Records": records + records}, LongContext())
    assert response == {"batchItemFailures": []}


@pytest.mark.usefixtures("no_noise")  # asserts exact figures
def test_signals_report_every_window_and_hide_crops_under_k(
    api: Api, dynamodb: Any, table: str
) -> None:
    _seed(api, dynamodb, table)

    response = api.get(f"/communities/{AREA}/signals", user="reader")

    assert response.status == 200, response.body
    body = response.body
    assert body["geohash"] == AREA
    assert body["asOf"].endswith("Z")
    assert body["dataUpdatedAt"] is not None
    assert body["dataUpdatedAt"] <= body["asOf"]
    assert [window["days"] for window in body["windows"]] == [7, 14, 30]
    for window in body["windows"]:
        by_crop = {crop["crop"]: crop for crop in window["crops"]}
        # Zucchini (2 growers) is not even named: it looks like a crop nobody listed.
        assert set(by_crop) == {"tomato"}
        assert by_crop["tomato"] == {
            "crop": "tomato",
            "unit": "kg",
            "supply": 30,
            "demand": 3,
            "listings": 3,
            "requests": 3,
            "scarcity": 0.097,
            "abundance": 7.5,
            "classification": "surplus",
            "confidence": 0.55,
        }
        # The sums of the crops shown: nothing of zucchini's 2 listings.
        assert window["allCrops"] == {
            "listings": 3,
            "requests": 3,
            "contributors": None,
            "rounded": False,
        }
        assert "Tomato" in window["summary"]
        assert "contributors" not in window["summary"]
        assert "Zucchini" not in window["summary"]


def test_finer_cells_and_other_areas_see_only_their_buckets(
    api: Api, dynamodb: Any, table: str
) -> None:
    _seed(api, dynamodb, table)

    cell = api.get("/communities/U33DC/signals", user="reader")
    finer = api.get("/communities/u33dc0/signals", user="reader")
    elsewhere = api.get("/communities/u336/signals", user="reader")

    assert cell.status == 200, cell.body
    assert cell.body["geohash"] == "u33dc"
    assert {crop["crop"] for crop in cell.body["windows"][0]["crops"]} == {"tomato"}
    # Precision 6 would place growers inside the public cell: it shows nothing, like an
    # area nobody is in (domain.disclosure, rule 1).
    for empty, area in ((finer, "u33dc0"), (elsewhere, "u336")):
        assert empty.status == 200, empty.body
        assert empty.body["dataUpdatedAt"] is None
        for window in empty.body["windows"]:
            assert window["crops"] == []
            assert window["summary"] == (
                f"Last {window['days']} days around {area}: no listings or requests."
            )
            assert window["allCrops"] == {
                "listings": 0,
                "requests": 0,
                "contributors": None,
                "rounded": False,
            }


def test_an_area_without_data_answers_200_with_no_activity(api: Api) -> None:
    response = api.get("/communities/u33d/signals")

    assert response.status == 200, response.body
    assert response.body["dataUpdatedAt"] is None
    assert [w["crops"] for w in response.body["windows"]] == [[], [], []]


@pytest.mark.parametrize("geohash", ["abc!", "u33", "u33dc0c", "u33a"])
def test_a_bad_geohash_is_a_400_problem(api: Api, geohash: str) -> None:
    response = api.get(f"/communities/{geohash}/signals")

    assert response.status == 400, response.body
    assert response.header("Content-Type") == "application/problem+json"
    assert response.body["status"] == 400
    assert response.body["type"].endswith("invalid-geohash")


def test_signals_need_a_token(api: Api) -> None:
    response = api.get("/communities/u33d/signals", user=None)

    assert response.status == 401
    assert response.header("Content-Type") == "application/problem+json"


def test_signals_route_is_documented(api: Api) -> None:
    spec = api.get("/openapi.json", user=None)

    operation = spec.body["paths"]["/communities/{geohash}/signals"]["get"]
    assert "200" in operation["responses"]
    assert "CommunitySignalsOut" in spec.body["components"]["schemas"]
