"""Signed pagination cursors: opaque to clients, bound to a scope, never a 500 when bad."""

from __future__ import annotations

import base64

import pytest

from harvest.domain.cursor import MAX_CURSOR_LENGTH, CursorCodec
from harvest.domain.errors import InvalidCursor, ValidationFailed

KEY = b"k" * 32
SCOPE = "listings_by_owner:user-1"
POSITION = {"PK": "LISTING#abc", "SK": "LISTING", "n": 3}


def test_given_a_cursor_when_decoded_in_its_scope_then_position_comes_back() -> None:
    codec = CursorCodec(KEY)

    cursor = codec.encode(SCOPE, POSITION)

    assert codec.decode(SCOPE, cursor) == POSITION


def test_cursor_is_url_safe_unpadded_and_does_not_show_the_key_names_in_clear() -> None:
    cursor = CursorCodec(KEY).encode(SCOPE, POSITION)

    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert "LISTING" not in cursor


def test_same_position_in_same_scope_gives_the_same_cursor_whatever_the_key_order() -> None:
    codec = CursorCodec(KEY)

    assert codec.encode(SCOPE, {"a": "1", "b": 2}) == codec.encode(SCOPE, {"b": 2, "a": "1"})


def test_given_a_cursor_when_decoded_in_another_scope_then_invalid() -> None:
    codec = CursorCodec(KEY)
    cursor = codec.encode("listings_by_owner:user-1", POSITION)

    with pytest.raises(InvalidCursor):
        codec.decode("listings_by_owner:user-2", cursor)


def test_given_a_cursor_when_decoded_with_another_key_then_invalid() -> None:
    cursor = CursorCodec(KEY).encode(SCOPE, POSITION)

    with pytest.raises(InvalidCursor):
        CursorCodec(b"x" * 32).decode(SCOPE, cursor)


def test_given_a_forged_payload_with_a_copied_signature_then_invalid() -> None:
    codec = CursorCodec(KEY)
    raw = base64.urlsafe_b64decode(codec.encode(SCOPE, {"PK": "USER#me"}) + "==")
    forged = raw[:16] + b'{"PK":"USER#victim"}'

    with pytest.raises(InvalidCursor):
        codec.decode(SCOPE, base64.urlsafe_b64encode(forged).decode().rstrip("="))


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "!!!!",
        "a",
        "abcde",
        "not a cursor",
        "é",
        "====",
        "A" * 20,
        "A" * (MAX_CURSOR_LENGTH + 1),
    ],
)
def test_garbage_cursors_are_invalid_cursor_not_a_crash(garbage: str) -> None:
    with pytest.raises(InvalidCursor) as raised:
        CursorCodec(KEY).decode(SCOPE, garbage)

    assert isinstance(raised.value, ValidationFailed)
    assert raised.value.errors[0].loc == "cursor"


def test_cursor_longer_than_the_limit_is_rejected_even_when_validly_signed() -> None:
    codec = CursorCodec(KEY)
    cursor = codec.encode(SCOPE, {"blob": "x" * MAX_CURSOR_LENGTH})

    assert len(cursor) > MAX_CURSOR_LENGTH
    with pytest.raises(InvalidCursor):
        codec.decode(SCOPE, cursor)


@pytest.mark.parametrize("length", [0, 1, 15])
def test_signing_key_shorter_than_16_bytes_is_rejected(length: int) -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        CursorCodec(b"k" * length)


def test_signing_key_of_exactly_16_bytes_is_accepted() -> None:
    codec = CursorCodec(b"k" * 16)

    assert codec.decode(SCOPE, codec.encode(SCOPE, POSITION)) == POSITION
