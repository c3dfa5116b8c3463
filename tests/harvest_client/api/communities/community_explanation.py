from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.explanation_out import ExplanationOut
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast


def _get_kwargs(
    geohash: str,
    *,
    days: int | Unset = 7,
    x_correlation_id: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_correlation_id, Unset):
        headers["X-Correlation-Id"] = x_correlation_id

    if not isinstance(if_none_match, Unset):
        headers["If-None-Match"] = if_none_match

    params: dict[str, Any] = {}

    params["days"] = days

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/communities/{geohash}/explanation".format(
            geohash=quote(str(geohash), safe=""),
        ),
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | ExplanationOut | Problem | None:
    if response.status_code == 200:
        response_200 = ExplanationOut.from_dict(response.json())

        return response_200

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

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

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | ExplanationOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    geohash: str,
    *,
    client: AuthenticatedClient,
    days: int | Unset = 7,
    x_correlation_id: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Response[Any | ExplanationOut | Problem]:
    """AI explanation of an area's signals over one window (supporter and up)

    Args:
        geohash (str):
        days (int | Unset): 7, 14 or 30 Default: 7.
        x_correlation_id (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ExplanationOut | Problem]
    """

    kwargs = _get_kwargs(
        geohash=geohash,
        days=days,
        x_correlation_id=x_correlation_id,
        if_none_match=if_none_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    geohash: str,
    *,
    client: AuthenticatedClient,
    days: int | Unset = 7,
    x_correlation_id: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Any | ExplanationOut | Problem | None:
    """AI explanation of an area's signals over one window (supporter and up)

    Args:
        geohash (str):
        days (int | Unset): 7, 14 or 30 Default: 7.
        x_correlation_id (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ExplanationOut | Problem
    """

    return sync_detailed(
        geohash=geohash,
        client=client,
        days=days,
        x_correlation_id=x_correlation_id,
        if_none_match=if_none_match,
    ).parsed


async def asyncio_detailed(
    geohash: str,
    *,
    client: AuthenticatedClient,
    days: int | Unset = 7,
    x_correlation_id: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Response[Any | ExplanationOut | Problem]:
    """AI explanation of an area's signals over one window (supporter and up)

    Args:
        geohash (str):
        days (int | Unset): 7, 14 or 30 Default: 7.
        x_correlation_id (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ExplanationOut | Problem]
    """

    kwargs = _get_kwargs(
        geohash=geohash,
        days=days,
        x_correlation_id=x_correlation_id,
        if_none_match=if_none_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    geohash: str,
    *,
    client: AuthenticatedClient,
    days: int | Unset = 7,
    x_correlation_id: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Any | ExplanationOut | Problem | None:
    """AI explanation of an area's signals over one window (supporter and up)

    Args:
        geohash (str):
        days (int | Unset): 7, 14 or 30 Default: 7.
        x_correlation_id (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ExplanationOut | Problem
    """

    return (
        await asyncio_detailed(
            geohash=geohash,
            client=client,
            days=days,
            x_correlation_id=x_correlation_id,
            if_none_match=if_none_match,
        )
    ).parsed
