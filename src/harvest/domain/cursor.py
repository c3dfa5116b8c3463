"""Opaque, signed pagination cursors.

A cursor carries the position of the last item served (a DynamoDB key or a sort position)
and the scope it was issued for (pattern + caller). It is signed so that a client cannot
forge a key into another user's partition; any tampering, truncation or reuse in another
scope is an InvalidCursor (HTTP 400), never a 500.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from harvest.domain.errors import InvalidCursor

_SIGNATURE_BYTES = 16
MAX_CURSOR_LENGTH = 2048


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("cursor signing key must be at least 16 bytes")
        self._key = key

    def _sign(self, scope: str, payload: bytes) -> bytes:
        message = scope.encode() + b"\x00" + payload
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def encode(self, scope: str, position: dict[str, Any]) -> str:
        payload = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
        token = self._sign(scope, payload) + payload
        return base64.urlsafe_b64encode(token).decode().rstrip("=")

    def decode(self, scope: str, cursor: str) -> dict[str, Any]:
        if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
            raise InvalidCursor
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError) as error:
            raise InvalidCursor from error
        signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
        if not hmac.compare_digest(signature, self._sign(scope, payload)):
            raise InvalidCursor
        try:
            position = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:  # pragma: no cover - signed
            raise InvalidCursor from error
        if not isinstance(position, dict):  # pragma: no cover - we only sign dicts
            raise InvalidCursor
        return position
