"""The generated client (tests/harvest_client, from schemas/openapi.json) pointed at a running
local runtime, one signed-in user per client, as a client team would use it.

Every client raises on a status the document does not list for the operation
(`raise_on_unexpected_status`), and parses every listed one into the documented model, so a
response that drifts from the contract fails the test that got it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import httpx

from harvest_client import AuthenticatedClient, Client
from harvest_client.types import Response
from support.runtime import HttpClient


@dataclass
class Clients:
    """Hands out one client per user (and tier) and closes them all at the end."""

    http: HttpClient
    stack: ExitStack
    made: dict[tuple[str, str], AuthenticatedClient] = field(default_factory=dict)

    def signed_in(self, user: str, tier: str = "free") -> AuthenticatedClient:
        if (user, tier) not in self.made:
            client = AuthenticatedClient(
                base_url=self.http.base_url,
                token=self.http.issuer.issue(user, tier),
                raise_on_unexpected_status=True,
                timeout=httpx.Timeout(30.0),
            )
            self.made[user, tier] = self.stack.enter_context(client)
        return self.made[user, tier]

    def anonymous(self) -> Client:
        return self.stack.enter_context(
            Client(
                base_url=self.http.base_url,
                raise_on_unexpected_status=True,
                timeout=httpx.Timeout(30.0),
            )
        )


@contextmanager
def generated_clients(http: HttpClient) -> Iterator[Clients]:
    with ExitStack() as stack:
        yield Clients(http, stack)


def parsed[T, Body](response: Response[Body], status: int, model: type[T]) -> T:
    """The body of a response that must have `status`, as the documented `model`."""
    assert response.status_code == status, (response.status_code, response.content)
    assert isinstance(response.parsed, model), (model, response.parsed)
    return response.parsed
