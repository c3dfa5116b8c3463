"""Property tests for signed cursors: round trip, and no tampering ever gets through."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from harvest.domain.cursor import MAX_CURSOR_LENGTH, CursorCodec
from harvest.domain.errors import InvalidCursor

KEY = b"0123456789abcdef0123456789abcdef"
CODEC = CursorCodec(KEY)
URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

scopes = st.text(max_size=40)
# Sized so that the cursor stays within MAX_CURSOR_LENGTH (escaped non-ASCII is 6-12 bytes).
positions = st.dictionaries(
    st.text(max_size=10),
    st.one_of(st.text(max_size=10), st.integers(min_value=-(2**63), max_value=2**63)),
    max_size=5,
)


def raw_bytes(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def to_cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decoded_or_invalid(scope: str, cursor: str) -> dict[str, Any] | None:
    try:
        return CODEC.decode(scope, cursor)
    except InvalidCursor:
        return None


@given(scope=scopes, position=positions)
def test_any_position_round_trips_in_its_scope(scope: str, position: dict[str, Any]) -> None:
    cursor = CODEC.encode(scope, position)

    assert len(cursor) <= MAX_CURSOR_LENGTH
    assert CODEC.decode(scope, cursor) == position


@given(scope=scopes, position=positions, data=st.data())
def test_any_single_byte_tamper_is_invalid(
    scope: str, position: dict[str, Any], data: st.DataObject
) -> None:
    raw = bytearray(raw_bytes(CODEC.encode(scope, position)))
    index = data.draw(st.integers(min_value=0, max_value=len(raw) - 1), label="index")
    flip = data.draw(st.integers(min_value=1, max_value=255), label="xor")
    raw[index] ^= flip

    with pytest.raises(InvalidCursor):
        CODEC.decode(scope, to_cursor(bytes(raw)))


@given(scope=scopes, position=positions, data=st.data())
def test_any_truncation_is_invalid(
    scope: str, position: dict[str, Any], data: st.DataObject
) -> None:
    cursor = CODEC.encode(scope, position)
    cut = data.draw(st.integers(min_value=0, max_value=len(cursor) - 1), label="cut")

    with pytest.raises(InvalidCursor):
        CODEC.decode(scope, cursor[:cut])


@given(scope=scopes, position=positions, data=st.data())
def test_a_character_level_edit_never_yields_a_different_position(
    scope: str, position: dict[str, Any], data: st.DataObject
) -> None:
    # Base64 leaves a few trailing bits unused, so an edit of the last character may decode
    # to the very same bytes; what must never happen is a *different* accepted position.
    cursor = CODEC.encode(scope, position)
    index = data.draw(st.integers(min_value=0, max_value=len(cursor) - 1), label="index")
    char = data.draw(st.sampled_from(URLSAFE).filter(lambda c: c != cursor[index]), label="c")
    edited = cursor[:index] + char + cursor[index + 1 :]

    result = decoded_or_invalid(scope, edited)

    assert result is None or (result == position and raw_bytes(edited) == raw_bytes(cursor))


@given(scope=scopes, other=scopes, position=positions)
def test_a_cursor_is_invalid_in_any_other_scope(
    scope: str, other: str, position: dict[str, Any]
) -> None:
    assume(scope != other)

    with pytest.raises(InvalidCursor):
        CODEC.decode(other, CODEC.encode(scope, position))


@given(key=st.binary(min_size=16, max_size=64), scope=scopes, position=positions)
def test_a_cursor_is_invalid_under_any_other_key(
    key: bytes, scope: str, position: dict[str, Any]
) -> None:
    assume(key != KEY)

    with pytest.raises(InvalidCursor):
        CursorCodec(key).decode(scope, CODEC.encode(scope, position))


@given(scope=scopes, garbage=st.text() | st.text(alphabet=URLSAFE + "="))
def test_garbage_text_raises_nothing_but_invalid_cursor(scope: str, garbage: str) -> None:
    with pytest.raises(InvalidCursor):
        CODEC.decode(scope, garbage)


@given(key=st.binary(max_size=15))
def test_keys_shorter_than_16_bytes_are_rejected(key: bytes) -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        CursorCodec(key)
