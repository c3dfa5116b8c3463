from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.match_collection import MatchCollection
from ...models.my_matches_side import MyMatchesSide
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast


def _get_kwargs(
    *,
    side: MyMatchesSide | Unset = MyMatchesSide.REQUEST,
    limit: int | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    x_correlation_id: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_correlation_id, Unset):
        headers["X-Correlation-Id"] = x_correlation_id

    if not isinstance(if_none_match, Unset):
        headers["If-None-Match"] = if_none_match

    params: dict[str, Any] = {}

    json_side: str | Unset = UNSET
    if not isinstance(side, Unset):
        json_side = side.value

    params["side"] = json_side

    json_limit: int | None | Unset
    if isinstance(limit, Unset):
        json_limit = UNSET
    else:
        json_limit = limit
    params["limit"] = json_limit

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/me/matches",
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | MatchCollection | Problem | None:
    if response.status_code == 200:
        response_200 = MatchCollection.from_dict(response.json())

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
) -> Response[Any | MatchCollection | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    side: MyMatchesSide | Unset = MyMatchesSide.REQUEST,
    limit: int | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    x_correlation_id: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Response[Any | MatchCollection | Problem]:
    """Match suggestions for my requests or my listings (nearest first per item)

    Args:
        side (MyMatchesSide | Unset): `request` (default): listings nearby suggested for your open
            requests; `listing`: requests nearby suggested for your live listings. Default:
            MyMatchesSide.REQUEST.
        limit (int | None | Unset):
        cursor (None | str | Unset):
        x_correlation_id (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | MatchCollection | Problem]
    """

    kwargs = _get_kwargs(
        side=side,
        limit=limit,
        cursor=cursor,
        x_correlation_id=x_correlation_id,
        if_none_match=if_none_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    side: MyMatchesSide | Unset = MyMatchesSide.REQUEST,
    limit: int | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    x_correlation_id: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Any | MatchCollection | Problem | None:
    """Match suggestions for my requests or my listings (nearest first per item)

    Args:
        side (MyMatchesSide | Unset): `request` (default): listings nearby suggested for your open
            requests; `listing`: requests nearby suggested for your live listings. Default:
            MyMatchesSide.REQUEST.
        limit (int | None | Unset):
        cursor (None | str | Unset):
        x_correlation_id (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | MatchCollection | Problem
    """

    return sync_detailed(
        client=client,
        side=side,
        limit=limit,
        cursor=cursor,
        x_correlation_id=x_correlation_id,
        if_none_match=if_none_match,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    side: MyMatchesSide | Unset = MyMatchesSide.REQUEST,
    limit: int | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    x_correlation_id: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Response[Any | MatchCollection | Problem]:
    """Match suggestions for my requests or my listings (nearest first per item)

    Args:
        side (MyMatchesSide | Unset): `request` (default): listings nearby suggested for your open
            requests; `listing`: requests nearby suggested for your live listings. Default:
            MyMatchesSide.REQUEST.
        limit (int | None | Unset):
        cursor (None | str | Unset):
        x_correlation_id (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | MatchCollection | Problem]
    """

    kwargs = _get_kwargs(
        side=side,
        limit=limit,
        cursor=cursor,
        x_correlation_id=x_correlation_id,
        if_none_match=if_none_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    side: MyMatchesSide | Unset = MyMatchesSide.REQUEST,
    limit: int | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    x_correlation_id: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Any | MatchCollection | Problem | None:
    """Match suggestions for my requests or my listings (nearest first per item)

    Args:
        side (MyMatchesSide | Unset): `request` (default): listings nearby suggested for your open
            requests; `listing`: requests nearby suggested for your live listings. Default:
            MyMatchesSide.REQUEST.
        limit (int | None | Unset):
        cursor (None | str | Unset):
        x_correlation_id (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | MatchCollection | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            side=side,
            limit=limit,
            cursor=cursor,
            x_correlation_id=x_correlation_id,
            if_none_match=if_none_match,
        )
    ).parsed
