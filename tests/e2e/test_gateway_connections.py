"""The API Gateway emulator answers every connection: a burst of clients while it is busy,
many at once, and requests it cannot parse (a 400 problem, never a dropped connection)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from harvest.local.adapter import ApiGatewayEmulator, GatewayServer
from harvest.local.tokens import TokenIssuer

CLIENTS = 50


def _ok(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": json.dumps({"path": event["path"]})}


@pytest.fixture
def gateway() -> Iterator[GatewayServer]:
    """The emulator on a free port, in front of a function that echoes the path; not yet
    accepting (the test starts its loop)."""
    public = {"/echo", *(f"/echo/{number}" for number in range(CLIENTS))}
    emulator = ApiGatewayEmulator(_ok, TokenIssuer(b"k" * 32), public)
    server = emulator.make_server("127.0.0.1", 0)
    assert isinstance(server, GatewayServer)
    yield server
    server.shutdown()
    server.server_close()


def _serve(server: GatewayServer) -> None:
    threading.Thread(target=server.serve_forever, daemon=True).start()


def _exchange(port: int, raw: bytes, sock: socket.socket | None = None) -> bytes:
    """Send raw bytes, read until the server closes or one full response has arrived."""
    connection = sock or socket.create_connection(("127.0.0.1", port), timeout=10)
    with connection:
        connection.sendall(raw)
        received = b""
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return received
            received += chunk
            head, separator, body = received.partition(b"\r\n\r\n")
            if separator:
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    None,
                )
                if length is not None and len(body) >= length:
                    return received


def _status_and_body(response: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = response.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1]), json.loads(body)


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n".encode()


def test_a_burst_of_connections_while_the_gateway_is_busy_is_queued_not_refused(
    gateway: GatewayServer,
) -> None:
    # Given a gateway whose accepting loop is not running yet (as when a CPU hog or a slow
    # handler keeps it from accepting), When 50 clients connect at once
    port = gateway.server_address[1]
    connections = []
    try:
        for _ in range(CLIENTS):
            # A refused or dropped SYN (a full backlog) would time out here: Linux retries
            # a dropped SYN only after a second.
            connections.append(socket.create_connection(("127.0.0.1", port), timeout=0.5))
        for number, connection in enumerate(connections):
            connection.settimeout(30)
            connection.sendall(_get(f"/echo/{number}"))
        # When it gets to them
        _serve(gateway)
        # Then every one of them is answered
        answers = [_status_and_body(_exchange(port, b"", c)) for c in connections]
    finally:
        for connection in connections:
            connection.close()
    assert answers == [(200, {"path": f"/echo/{n}"}) for n in range(CLIENTS)]


def test_fifty_concurrent_clients_are_each_answered(gateway: GatewayServer) -> None:
    # Given a serving gateway
    _serve(gateway)
    port = gateway.server_address[1]
    start = threading.Barrier(CLIENTS)

    def client(number: int) -> tuple[int, dict[str, Any]]:
        start.wait()
        return _status_and_body(_exchange(port, _get(f"/echo/{number}")))

    # When 50 clients send their request at the same moment
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(client, range(CLIENTS)))

    # Then each gets its own answer
    assert answers == [(200, {"path": f"/echo/{n}"}) for n in range(CLIENTS)]


@pytest.mark.parametrize(
    "raw",
    [
        b"POST /echo HTTP/1.1\r\nHost: local\r\nContent-Length: abc\r\n\r\n{}",
        b"POST /echo HTTP/1.1\r\nHost: local\r\nContent-Length: -1\r\n\r\n{}",
        b"POST /echo HTTP/1.1\r\nHost: local\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        b"GARBAGE\r\n\r\n",
        b"GET /echo HTTP/9\r\nHost: local\r\n\r\n",
        b"GET /echo HTTP/1.1\r\nthis is no header\r\n\r\n",
    ],
    ids=[
        "non-numeric-length",
        "negative-length",
        "conflicting-lengths",
        "no-request-line",
        "bad-version",
        "bad-header-line",
    ],
)
def test_a_malformed_request_is_answered_with_a_400_problem(
    gateway: GatewayServer, raw: bytes
) -> None:
    # Given a serving gateway
    _serve(gateway)
    # When a client sends a request it cannot parse
    response = _exchange(gateway.server_address[1], raw)
    # Then it answers 400 with a problem document, and the function never ran
    status, body = _status_and_body(response)
    assert status == 400
    assert b"content-type: application/problem+json" in response.lower()
    assert body["status"] == 400
    assert body["title"] == "Bad Request"
    assert "path" not in body
