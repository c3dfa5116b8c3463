"""Development bearer tokens, verified like API Gateway's Cognito authorizer would.

HS256 JWTs signed with a key kept in the user's config directory, so a token printed by
`harvest token` stays valid across restarts of the runtime (until it expires). The claims are
the ones our handler reads: `sub` and `custom:tier`, plus the usual `iss`/`iat`/`exp`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ISSUER = "harvest-local"
DEFAULT_TTL_SECONDS = 12 * 3600
COGNITO_ID_USE = "id"  # Cognito id tokens (not access tokens) carry custom attributes
_HEADER = {"alg": "HS256", "typ": "JWT"}


class InvalidToken(Exception):
    """The token is missing, malformed, forged or expired."""


def config_dir() -> Path:
    base = os.environ.get("HARVEST_CONFIG_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "harvest-exchange"


def signing_key(directory: Path | None = None) -> bytes:
    """The local signing key, created (mode 0600) on first use."""
    path = (directory or config_dir()) / "dev-signing-key"
    if not path.exists():
        _create_once(path, secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip().encode()


def _create_once(path: Path, key: str) -> None:
    """Write the key beside `path`, then link it into place: a process racing this one (two
    test workers, the runtime and a CLI) either finds no file or the whole key, never an
    empty one, and the first key linked is everyone's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key)
        # another process linked its key first: that one stands
        with contextlib.suppress(FileExistsError):
            os.link(partial, path)
    finally:
        partial.unlink()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class TokenIssuer:
    key: bytes

    def issue(self, user: str, tier: str, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> str:
        now = int(time.time())
        claims = {
            "sub": user,
            "custom:tier": tier,
            "iss": ISSUER,
            "token_use": COGNITO_ID_USE,
            "iat": now,
            "exp": now + ttl_seconds,
        }
        signing_input = (
            _b64(json.dumps(_HEADER, separators=(",", ":")).encode())
            + "."
            + _b64(json.dumps(claims, separators=(",", ":")).encode())
        )
        signature = hmac.new(self.key, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64(signature)

    def verify(self, token: str, now: float | None = None) -> dict[str, Any]:
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("not a JWT")
        signing_input = f"{parts[0]}.{parts[1]}".encode()
        expected = hmac.new(self.key, signing_input, hashlib.sha256).digest()
        try:
            header = json.loads(_unb64(parts[0]))
            claims = json.loads(_unb64(parts[1]))
            signature = _unb64(parts[2])
        except (ValueError, json.JSONDecodeError) as error:
            raise InvalidToken("malformed token") from error
        if not isinstance(header, dict) or header.get("alg") != "HS256":
            raise InvalidToken("unsupported algorithm")
        if not hmac.compare_digest(signature, expected):
            raise InvalidToken("bad signature")
        if not isinstance(claims, dict) or claims.get("iss") != ISSUER:
            raise InvalidToken("wrong issuer")
        if float(claims.get("exp", 0)) <= (time.time() if now is None else now):
            raise InvalidToken("expired")
        return claims


def bearer(header_value: str | None) -> str | None:
    if not header_value:
        return None
    scheme, _, token = header_value.strip().partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    # API Gateway's Cognito authorizer also accepts the raw token in Authorization.
    return header_value.strip() if header_value.count(".") == 2 else None
