from __future__ import annotations

from support.apigw import Api


def test_health_answers_without_a_token(api: Api) -> None:
    response = api.get("/health", user=None)
    assert response.status == 200
    assert response.body["status"] == "ok"


def test_listing_created_then_read_back(api: Api) -> None:
    created = api.post(
        "/listings",
        {
            "crop": "tomato",
            "quantity": 5,
            "unit": "kg",
            "availableFrom": "2026-01-01T00:00:00Z",
            "availableUntil": "2026-12-20T00:00:00Z",
            "location": {"lat": 52.52, "lon": 13.405},
        },
    )
    assert created.status == 201, created.body
    read = api.get(created.header("Location") or "", user="bob")
    assert read.status == 200, read.body
    assert read.body["quantityRemaining"] == "5" or read.body["quantityRemaining"] == 5
