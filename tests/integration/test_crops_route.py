"""GET /crops: the catalogue a client needs before its first listing (crops, units,
conversions, which units count whole items), public and cacheable."""

from __future__ import annotations

from decimal import Decimal

from harvest.domain.crops import COUNT_UNITS, load_catalog
from support import payloads
from support.apigw import Api


def test_the_catalogue_needs_no_token_and_lists_every_crop_with_its_units(api: Api) -> None:
    response = api.get("/crops", user=None)

    assert response.status == 200
    assert response.header("Cache-Control") == "public, max-age=3600"
    crops = {item["crop"]: item for item in response.body["items"]}
    assert set(crops) == {crop.slug for crop in load_catalog()}
    apple = crops["apple"]
    units = {unit["unit"]: unit for unit in apple["units"]}
    assert apple["canonicalUnit"] == "kg"
    assert Decimal(str(units["lb"]["toCanonical"])) == Decimal("0.45359237")
    assert units["each"]["wholeNumbers"] is True
    assert units["kg"]["wholeNumbers"] is False


def test_every_unit_the_catalogue_offers_is_accepted_for_a_listing(api: Api) -> None:
    catalogue = api.get("/crops", user=None).body["items"]
    tomato = next(item for item in catalogue if item["crop"] == "tomato")

    for unit in tomato["units"]:
        quantity = 2 if unit["unit"] in COUNT_UNITS else 1.5
        body = payloads.listing(unit=unit["unit"], quantity=quantity)
        assert api.post("/listings", body, user="grower").status == 201, unit


def test_a_client_revalidates_the_catalogue_with_if_none_match(api: Api) -> None:
    first = api.get("/crops", user=None)
    tag = first.header("ETag")
    assert tag is not None

    again = api.get("/crops", user=None, headers={"If-None-Match": tag})

    assert again.status == 304
    assert again.raw == ""
    assert again.header("Cache-Control") == "public, max-age=3600"
