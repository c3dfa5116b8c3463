from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.guidance_create import GuidanceCreate
from ...models.guidance_out import GuidanceOut
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast


def _get_kwargs(
    *,
    body: GuidanceCreate,
    x_correlation_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_correlation_id, Unset):
        headers["X-Correlation-Id"] = x_correlation_id

    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/me/guidance",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> GuidanceOut | Problem | None:
    if response.status_code == 202:
        response_202 = GuidanceOut.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[GuidanceOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: GuidanceCreate,
    x_correlation_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[GuidanceOut | Problem]:
    """Ask for grower guidance (pro; per-user daily budget, 429 when used up)

    Args:
        x_correlation_id (str | Unset):
        idempotency_key (str | Unset):
        body (GuidanceCreate): Only an area and a crop: no free text, so nothing personal reaches
            a prompt.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GuidanceOut | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        x_correlation_id=x_correlation_id,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: GuidanceCreate,
    x_correlation_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> GuidanceOut | Problem | None:
    """Ask for grower guidance (pro; per-user daily budget, 429 when used up)

    Args:
        x_correlation_id (str | Unset):
        idempotency_key (str | Unset):
        body (GuidanceCreate): Only an area and a crop: no free text, so nothing personal reaches
            a prompt.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GuidanceOut | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        x_correlation_id=x_correlation_id,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: GuidanceCreate,
    x_correlation_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[GuidanceOut | Problem]:
    """Ask for grower guidance (pro; per-user daily budget, 429 when used up)

    Args:
        x_correlation_id (str | Unset):
        idempotency_key (str | Unset):
        body (GuidanceCreate): Only an area and a crop: no free text, so nothing personal reaches
            a prompt.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GuidanceOut | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        x_correlation_id=x_correlation_id,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: GuidanceCreate,
    x_correlation_id: str | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> GuidanceOut | Problem | None:
    """Ask for grower guidance (pro; per-user daily budget, 429 when used up)

    Args:
        x_correlation_id (str | Unset):
        idempotency_key (str | Unset):
        body (GuidanceCreate): Only an area and a crop: no free text, so nothing personal reaches
            a prompt.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GuidanceOut | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            x_correlation_id=x_correlation_id,
            idempotency_key=idempotency_key,
        )
    ).parsed
