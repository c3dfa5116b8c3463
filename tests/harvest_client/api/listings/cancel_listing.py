from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.listing_out import ListingOut
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast


def _get_kwargs(
    listing_id: str,
    *,
    x_correlation_id: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_correlation_id, Unset):
        headers["X-Correlation-Id"] = x_correlation_id

    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/listings/{listing_id}".format(
            listing_id=quote(str(listing_id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ListingOut | Problem | None:
    if response.status_code == 200:
        response_200 = ListingOut.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 412:
        response_412 = Problem.from_dict(response.json())

        return response_412

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ListingOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    listing_id: str,
    *,
    client: AuthenticatedClient,
    x_correlation_id: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Response[ListingOut | Problem]:
    """Cancel a listing (owner; If-Match optional)

    Args:
        listing_id (str):
        x_correlation_id (str | Unset):
        if_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ListingOut | Problem]
    """

    kwargs = _get_kwargs(
        listing_id=listing_id,
        x_correlation_id=x_correlation_id,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    listing_id: str,
    *,
    client: AuthenticatedClient,
    x_correlation_id: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> ListingOut | Problem | None:
    """Cancel a listing (owner; If-Match optional)

    Args:
        listing_id (str):
        x_correlation_id (str | Unset):
        if_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ListingOut | Problem
    """

    return sync_detailed(
        listing_id=listing_id,
        client=client,
        x_correlation_id=x_correlation_id,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    listing_id: str,
    *,
    client: AuthenticatedClient,
    x_correlation_id: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Response[ListingOut | Problem]:
    """Cancel a listing (owner; If-Match optional)

    Args:
        listing_id (str):
        x_correlation_id (str | Unset):
        if_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ListingOut | Problem]
    """

    kwargs = _get_kwargs(
        listing_id=listing_id,
        x_correlation_id=x_correlation_id,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    listing_id: str,
    *,
    client: AuthenticatedClient,
    x_correlation_id: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> ListingOut | Problem | None:
    """Cancel a listing (owner; If-Match optional)

    Args:
        listing_id (str):
        x_correlation_id (str | Unset):
        if_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ListingOut | Problem
    """

    return (
        await asyncio_detailed(
            listing_id=listing_id,
            client=client,
            x_correlation_id=x_correlation_id,
            if_match=if_match,
        )
    ).parsed
