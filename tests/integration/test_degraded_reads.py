"""Degraded, not broken: when DynamoDB throttles or does not answer, every read route says
503 problem+json with Retry-After (after botocore's bounded retries), never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from botocore.stub import Stubber

from harvest.api import dependencies
from harvest.store.dynamo import MAX_ATTEMPTS
from support import payloads
from support.apigw import Api, ApiResponse

# Each read route and the DynamoDB operation it calls first.
READ_ROUTES = {
    "/feed?lat=52.52&lon=13.405&radiusKm=5": "query",
    "/listings/{listing}": "get_item",
    "/me": "get_item",
    "/me/listings": "query",
    "/communities/u33dc/signals": "get_item",  # the INSIGHT# item first (O(1) signals)
}
THROTTLES = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
]


@pytest.fixture
def listing(api: Api) -> str:
    created = api.post("/listings", payloads.listing(), user="grower")
    assert created.status == 201, created.body
    return str(created.body["listingId"])


@pytest.fixture
def client(api: Api) -> Any:
    # The one client every repository of the API shares (built once per container).
    return dependencies.services().guidance.repository.table.client


def _assert_unavailable(response: ApiResponse) -> None:
    assert response.status == 503, response.body
    assert response.header("Content-Type") == "application/problem+json"
    assert response.body["type"].endswith("/service-unavailable")
    assert response.body["status"] == 503
    assert int(response.header("Retry-After") or 0) > 0


@pytest.mark.parametrize("route", READ_ROUTES)
@pytest.mark.parametrize("code", THROTTLES)
def test_a_throttled_read_is_a_503_with_retry_after(
    api: Api, listing: str, client: Any, route: str, code: str
) -> None:
    # Given DynamoDB throttles the route's first call (as botocore sees it after retrying)
    with Stubber(client) as stubber:
        stubber.add_client_error(READ_ROUTES[route], service_error_code=code, http_status_code=400)
        # When a user reads
        response = api.get(route.format(listing=listing), user="grower")

    # Then the answer is a 503 problem with Retry-After
    _assert_unavailable(response)


@pytest.fixture
def unanswered(client: Any) -> Iterator[list[str]]:
    """Every DynamoDB request times out before an answer; yields the attempts made."""
    attempts: list[str] = []

    def time_out(request: Any, **_: Any) -> None:
        attempts.append(request.url)
        if len(attempts) % 2:
            raise ReadTimeoutError(endpoint_url=request.url)
        raise ConnectTimeoutError(endpoint_url=request.url)

    client.meta.events.register_first("before-send.dynamodb", time_out)
    yield attempts
    client.meta.events.unregister("before-send.dynamodb", time_out)


@pytest.mark.parametrize("route", READ_ROUTES)
def test_a_read_that_times_out_is_a_503_after_bounded_retries(
    api: Api, listing: str, unanswered: list[str], route: str
) -> None:
    # When DynamoDB never answers a read route
    response = api.get(route.format(listing=listing), user="grower")

    # Then the API gives up after the configured attempts, with a 503, not a 500
    _assert_unavailable(response)
    assert len(unanswered) == MAX_ATTEMPTS
