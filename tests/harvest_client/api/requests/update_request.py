from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.problem import Problem
from ...models.request_out import RequestOut
from ...models.request_update import RequestUpdate
from ...types import UNSET, Unset
from typing import cast


def _get_kwargs(
    request_id: str,
    *,
    body: RequestUpdate,
    x_correlation_id: str | Unset = UNSET,
    if_match: str,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_correlation_id, Unset):
        headers["X-Correlation-Id"] = x_correlation_id

    headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/requests/{request_id}".format(
            request_id=quote(str(request_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | RequestOut | None:
    if response.status_code == 200:
        response_200 = RequestOut.from_dict(response.json())

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

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 428:
        response_428 = Problem.from_dict(response.json())

        return response_428

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | RequestOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    request_id: str,
    *,
    client: AuthenticatedClient,
    body: RequestUpdate,
    x_correlation_id: str | Unset = UNSET,
    if_match: str,
) -> Response[Problem | RequestOut]:
    """Change quantity, unit, date, notes or status (owner, If-Match required)

    Args:
        request_id (str):
        x_correlation_id (str | Unset):
        if_match (str):
        body (RequestUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RequestOut]
    """

    kwargs = _get_kwargs(
        request_id=request_id,
        body=body,
        x_correlation_id=x_correlation_id,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    request_id: str,
    *,
    client: AuthenticatedClient,
    body: RequestUpdate,
    x_correlation_id: str | Unset = UNSET,
    if_match: str,
) -> Problem | RequestOut | None:
    """Change quantity, unit, date, notes or status (owner, If-Match required)

    Args:
        request_id (str):
        x_correlation_id (str | Unset):
        if_match (str):
        body (RequestUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RequestOut
    """

    return sync_detailed(
        request_id=request_id,
        client=client,
        body=body,
        x_correlation_id=x_correlation_id,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    request_id: str,
    *,
    client: AuthenticatedClient,
    body: RequestUpdate,
    x_correlation_id: str | Unset = UNSET,
    if_match: str,
) -> Response[Problem | RequestOut]:
    """Change quantity, unit, date, notes or status (owner, If-Match required)

    Args:
        request_id (str):
        x_correlation_id (str | Unset):
        if_match (str):
        body (RequestUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | RequestOut]
    """

    kwargs = _get_kwargs(
        request_id=request_id,
        body=body,
        x_correlation_id=x_correlation_id,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    request_id: str,
    *,
    client: AuthenticatedClient,
    body: RequestUpdate,
    x_correlation_id: str | Unset = UNSET,
    if_match: str,
) -> Problem | RequestOut | None:
    """Change quantity, unit, date, notes or status (owner, If-Match required)

    Args:
        request_id (str):
        x_correlation_id (str | Unset):
        if_match (str):
        body (RequestUpdate):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | RequestOut
    """

    return (
        await asyncio_detailed(
            request_id=request_id,
            client=client,
            body=body,
            x_correlation_id=x_correlation_id,
            if_match=if_match,
        )
    ).parsed
