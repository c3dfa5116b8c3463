from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.feed_collection import FeedCollection
from ...models.feed_kind_type_0 import FeedKindType0
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast


def _get_kwargs(
    *,
    lat: float,
    lon: float,
    radius_km: float | Unset = 5.0,
    crop: None | str | Unset = UNSET,
    kind: FeedKindType0 | None | Unset = UNSET,
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

    params["lat"] = lat

    params["lon"] = lon

    params["radiusKm"] = radius_km

    json_crop: None | str | Unset
    if isinstance(crop, Unset):
        json_crop = UNSET
    else:
        json_crop = crop
    params["crop"] = json_crop

    json_kind: None | str | Unset
    if isinstance(kind, Unset):
        json_kind = UNSET
    elif isinstance(kind, FeedKindType0):
        json_kind = kind.value
    else:
        json_kind = kind
    params["kind"] = json_kind

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
        "url": "/feed",
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | FeedCollection | Problem | None:
    if response.status_code == 200:
        response_200 = FeedCollection.from_dict(response.json())

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
) -> Response[Any | FeedCollection | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    lat: float,
    lon: float,
    radius_km: float | Unset = 5.0,
    crop: None | str | Unset = UNSET,
    kind: FeedKindType0 | None | Unset = UNSET,
    limit: int | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    x_correlation_id: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Response[Any | FeedCollection | Problem]:
    """Live listings and open requests near a point, nearest first

     Nearest first by the distance to each item's published cell centre, then kind, then id; `distanceKm`
    is that distance rounded up to the next 0.5 km. A page may hold fewer than `limit` items (a rare
    crop in a dense area) and still have a `nextCursor`: follow it until it is null.

    Args:
        lat (float):
        lon (float):
        radius_km (float | Unset): Search radius in km (default 5, at most 50). The feed searches
            at least 1 km and rounds the radius up to the next 0.5 km. An item is in range when the
            point it shows (the centre of its published geohash-5 cell) is; its order and `distanceKm`
            are measured to that point too, never to its exact place. Default: 5.0.
        crop (None | str | Unset):
        kind (FeedKindType0 | None | Unset): Only items of this `kind`: `listing` or `request`
            (the value items carry). `listings` and `requests` are deprecated aliases, still accepted.
        limit (int | None | Unset):
        cursor (None | str | Unset):
        x_correlation_id (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | FeedCollection | Problem]
    """

    kwargs = _get_kwargs(
        lat=lat,
        lon=lon,
        radius_km=radius_km,
        crop=crop,
        kind=kind,
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
    lat: float,
    lon: float,
    radius_km: float | Unset = 5.0,
    crop: None | str | Unset = UNSET,
    kind: FeedKindType0 | None | Unset = UNSET,
    limit: int | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    x_correlation_id: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Any | FeedCollection | Problem | None:
    """Live listings and open requests near a point, nearest first

     Nearest first by the distance to each item's published cell centre, then kind, then id; `distanceKm`
    is that distance rounded up to the next 0.5 km. A page may hold fewer than `limit` items (a rare
    crop in a dense area) and still have a `nextCursor`: follow it until it is null.

    Args:
        lat (float):
        lon (float):
        radius_km (float | Unset): Search radius in km (default 5, at most 50). The feed searches
            at least 1 km and rounds the radius up to the next 0.5 km. An item is in range when the
            point it shows (the centre of its published geohash-5 cell) is; its order and `distanceKm`
            are measured to that point too, never to its exact place. Default: 5.0.
        crop (None | str | Unset):
        kind (FeedKindType0 | None | Unset): Only items of this `kind`: `listing` or `request`
            (the value items carry). `listings` and `requests` are deprecated aliases, still accepted.
        limit (int | None | Unset):
        cursor (None | str | Unset):
        x_correlation_id (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | FeedCollection | Problem
    """

    return sync_detailed(
        client=client,
        lat=lat,
        lon=lon,
        radius_km=radius_km,
        crop=crop,
        kind=kind,
        limit=limit,
        cursor=cursor,
        x_correlation_id=x_correlation_id,
        if_none_match=if_none_match,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    lat: float,
    lon: float,
    radius_km: float | Unset = 5.0,
    crop: None | str | Unset = UNSET,
    kind: FeedKindType0 | None | Unset = UNSET,
    limit: int | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    x_correlation_id: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Response[Any | FeedCollection | Problem]:
    """Live listings and open requests near a point, nearest first

     Nearest first by the distance to each item's published cell centre, then kind, then id; `distanceKm`
    is that distance rounded up to the next 0.5 km. A page may hold fewer than `limit` items (a rare
    crop in a dense area) and still have a `nextCursor`: follow it until it is null.

    Args:
        lat (float):
        lon (float):
        radius_km (float | Unset): Search radius in km (default 5, at most 50). The feed searches
            at least 1 km and rounds the radius up to the next 0.5 km. An item is in range when the
            point it shows (the centre of its published geohash-5 cell) is; its order and `distanceKm`
            are measured to that point too, never to its exact place. Default: 5.0.
        crop (None | str | Unset):
        kind (FeedKindType0 | None | Unset): Only items of this `kind`: `listing` or `request`
            (the value items carry). `listings` and `requests` are deprecated aliases, still accepted.
        limit (int | None | Unset):
        cursor (None | str | Unset):
        x_correlation_id (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | FeedCollection | Problem]
    """

    kwargs = _get_kwargs(
        lat=lat,
        lon=lon,
        radius_km=radius_km,
        crop=crop,
        kind=kind,
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
    lat: float,
    lon: float,
    radius_km: float | Unset = 5.0,
    crop: None | str | Unset = UNSET,
    kind: FeedKindType0 | None | Unset = UNSET,
    limit: int | None | Unset = UNSET,
    cursor: None | str | Unset = UNSET,
    x_correlation_id: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Any | FeedCollection | Problem | None:
    """Live listings and open requests near a point, nearest first

     Nearest first by the distance to each item's published cell centre, then kind, then id; `distanceKm`
    is that distance rounded up to the next 0.5 km. A page may hold fewer than `limit` items (a rare
    crop in a dense area) and still have a `nextCursor`: follow it until it is null.

    Args:
        lat (float):
        lon (float):
        radius_km (float | Unset): Search radius in km (default 5, at most 50). The feed searches
            at least 1 km and rounds the radius up to the next 0.5 km. An item is in range when the
            point it shows (the centre of its published geohash-5 cell) is; its order and `distanceKm`
            are measured to that point too, never to its exact place. Default: 5.0.
        crop (None | str | Unset):
        kind (FeedKindType0 | None | Unset): Only items of this `kind`: `listing` or `request`
            (the value items carry). `listings` and `requests` are deprecated aliases, still accepted.
        limit (int | None | Unset):
        cursor (None | str | Unset):
        x_correlation_id (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | FeedCollection | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            lat=lat,
            lon=lon,
            radius_km=radius_km,
            crop=crop,
            kind=kind,
            limit=limit,
            cursor=cursor,
            x_correlation_id=x_correlation_id,
            if_none_match=if_none_match,
        )
    ).parsed
