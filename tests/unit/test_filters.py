"""Lambda event filtering: the EventBridge pattern language as the stream pollers apply it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harvest.local.filters import InvalidFilterPattern, compile_pattern, matches_any


def _matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return compile_pattern(json.dumps(pattern)).matches(event)


def _ddb_record(
    pk: str, event_name: str = "INSERT", *, ttl: bool = False, **image: Any
) -> dict[str, Any]:
    keys = {"PK": {"S": pk}, "SK": {"S": "META"}}
    record: dict[str, Any] = {
        "eventID": "e1",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1767225600.0,
            "Keys": keys,
            "NewImage": {**keys, **image},
            "SequenceNumber": "100",
            "SizeBytes": 40,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
    }
    if ttl:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


CORE_WRITES = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "LISTING#"}]}}},
}


# ---------------------------------------------------------------- realistic records


def test_core_listing_writes_match_and_derived_writes_do_not() -> None:
    assert _matches(CORE_WRITES, _ddb_record("LISTING#01J"))
    assert _matches(CORE_WRITES, _ddb_record("LISTING#01J", "MODIFY"))
    assert not _matches(CORE_WRITES, _ddb_record("AGG#9q8y#tomato#2026-01-01"))
    assert not _matches(CORE_WRITES, _ddb_record("LISTING#01J", "REMOVE"))


def test_anything_but_alone_on_the_principal_also_drops_user_deletes() -> None:
    # anything-but needs the field present, and only TTL deletions carry userIdentity.
    naive = {"userIdentity": {"principalId": [{"anything-but": "dynamodb.amazonaws.com"}]}}

    assert not _matches(naive, _ddb_record("AI#1", "REMOVE", ttl=True))
    assert not _matches(naive, _ddb_record("LISTING#1", "REMOVE"))


def test_ttl_deletions_are_excluded_by_anything_but_or_a_missing_principal() -> None:
    pattern = {
        "$or": [
            {"userIdentity": {"principalId": [{"anything-but": "dynamodb.amazonaws.com"}]}},
            {"userIdentity": {"principalId": [{"exists": False}]}},
        ]
    }

    assert not _matches(pattern, _ddb_record("AI#1", "REMOVE", ttl=True))
    assert _matches(pattern, _ddb_record("LISTING#1", "REMOVE"))


def test_ttl_deletions_are_excluded_by_exists_false() -> None:
    pattern = {"eventName": ["REMOVE"], "userIdentity": {"type": [{"exists": False}]}}

    assert _matches(pattern, _ddb_record("LISTING#1", "REMOVE"))
    assert not _matches(pattern, _ddb_record("AI#1", "REMOVE", ttl=True))


# ---------------------------------------------------------------- exact values


@pytest.mark.parametrize(
    ("values", "value", "expected"),
    [
        (["a", "b"], "b", True),
        (["a", "b"], "c", False),
        (["5"], 5, False),  # a string never equals a number
        ([5], 5.0, True),
        ([5], "5", False),
        ([True], True, True),
        ([True], 1, False),
        ([None], None, True),
        ([None], "null", False),
        (["x"], ["y", "x"], True),  # an array matches when one element does
        (["x"], ["y", "z"], False),
    ],
)
def test_exact_values_match_by_type_and_value(
    values: list[Any], value: Any, expected: bool
) -> None:
    assert _matches({"f": values}, {"f": value}) is expected


def test_a_missing_field_matches_no_value_not_even_null() -> None:
    assert not _matches({"f": [None]}, {})
    assert not _matches({"f": ["a"]}, {"g": "a"})


def test_nested_objects_must_match_at_every_level() -> None:
    pattern = {"a": {"b": {"c": ["x"]}, "d": ["y"]}}

    assert _matches(pattern, {"a": {"b": {"c": "x"}, "d": "y"}})
    assert not _matches(pattern, {"a": {"b": {"c": "x"}, "d": "z"}})
    assert not _matches(pattern, {"a": {"b": "x", "d": "y"}})


def test_objects_inside_arrays_are_flattened_as_eventbridge_does() -> None:
    event = {"items": [{"k": "a", "v": 1}, {"k": "b", "v": 2}]}

    assert _matches({"items": {"k": ["b"]}}, event)
    assert _matches({"items": {"k": ["a"], "v": [2]}}, event)  # element boundaries are lost
    assert not _matches({"items": {"k": ["c"]}}, event)


# ---------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ({"prefix": "LISTING#"}, "LISTING#1", True),
        ({"prefix": "LISTING#"}, "AGG#LISTING#1", False),
        ({"prefix": "LISTING#"}, 5, False),
        ({"prefix": {"equals-ignore-case": "listing#"}}, "LISTING#1", True),
        ({"suffix": ".png"}, "a.png", True),
        ({"suffix": ".png"}, "a.jpg", False),
        ({"suffix": {"equals-ignore-case": ".PNG"}}, "a.png", True),
        ({"equals-ignore-case": "Tomato"}, "TOMATO", True),
        ({"equals-ignore-case": "Tomato"}, "tomatoes", False),
        ({"anything-but": "a"}, "b", True),
        ({"anything-but": "a"}, "a", False),
        ({"anything-but": ["a", "b"]}, "b", False),
        ({"anything-but": ["a", "b"]}, "c", True),
        ({"anything-but": 5}, 6, True),
        ({"anything-but": 5}, 5, False),
        ({"anything-but": {"prefix": "AGG#"}}, "AGG#1", False),
        ({"anything-but": {"prefix": "AGG#"}}, "LISTING#1", True),
        ({"anything-but": {"suffix": "#tmp"}}, "x#tmp", False),
        ({"anything-but": {"equals-ignore-case": ["A", "B"]}}, "b", False),
        ({"anything-but": {"equals-ignore-case": ["A", "B"]}}, "c", True),
        ({"numeric": [">", 0, "<=", 5]}, 5, True),
        ({"numeric": [">", 0, "<=", 5]}, 0, False),
        ({"numeric": [">", 0, "<=", 5]}, 5.5, False),
        ({"numeric": [">=", 0, "<", 5]}, 0, True),
        ({"numeric": ["=", 3]}, 3.0, True),
        ({"numeric": ["=", 3]}, 4, False),
        ({"numeric": ["<", 10]}, "5", False),  # numeric never matches strings
        ({"numeric": ["<", 10]}, True, False),
    ],
)
def test_each_operator(operator: dict[str, Any], value: Any, expected: bool) -> None:
    assert _matches({"f": [operator]}, {"f": value}) is expected


def test_operators_on_a_missing_field_do_not_match() -> None:
    for operator in ({"prefix": ""}, {"anything-but": "x"}, {"numeric": [">", 0]}):
        assert not _matches({"f": [operator]}, {})


def test_exists_looks_only_at_primitive_leaves() -> None:
    assert _matches({"f": [{"exists": True}]}, {"f": "x"})
    assert _matches({"f": [{"exists": True}]}, {"f": None})
    assert not _matches({"f": [{"exists": True}]}, {})
    assert not _matches({"f": [{"exists": True}]}, {"f": {"S": "x"}})  # an object is not a leaf
    assert _matches({"f": [{"exists": False}]}, {})
    assert not _matches({"f": [{"exists": False}]}, {"f": "x"})
    assert _matches({"f": {"S": [{"exists": True}]}}, {"f": {"S": "x"}})


def test_match_values_in_one_array_are_alternatives() -> None:
    pattern = {"f": ["a", {"prefix": "b"}, {"exists": False}]}

    assert _matches(pattern, {"f": "a"})
    assert _matches(pattern, {"f": "bee"})
    assert _matches(pattern, {})
    assert not _matches(pattern, {"f": "c"})


def test_or_matches_when_any_branch_does_and_ands_with_its_siblings() -> None:
    pattern = {"kind": ["listing"], "$or": [{"a": ["1"]}, {"b": [{"numeric": [">", 10]}]}]}

    assert _matches(pattern, {"kind": "listing", "a": "1"})
    assert _matches(pattern, {"kind": "listing", "b": 11})
    assert not _matches(pattern, {"kind": "listing", "a": "2", "b": 1})
    assert not _matches(pattern, {"kind": "request", "a": "1"})


def test_filters_of_one_criteria_are_ored_and_no_filters_match_everything() -> None:
    inserts = compile_pattern('{"eventName": ["INSERT"]}')
    removes = compile_pattern('{"eventName": ["REMOVE"]}')

    assert matches_any([inserts, removes], {"eventName": "REMOVE"})
    assert not matches_any([inserts, removes], {"eventName": "MODIFY"})
    assert matches_any([], {"eventName": "MODIFY"})


def test_an_empty_pattern_matches_everything() -> None:
    assert compile_pattern("{}").matches({"anything": 1})


# ---------------------------------------------------------------- invalid patterns


@pytest.mark.parametrize(
    ("pattern_json", "message"),
    [
        ("{not json", "not valid JSON"),
        ('["INSERT"]', "must be a JSON object"),
        ('{"eventName": "INSERT"}', "must be in an array"),
        ('{"eventName": []}', "empty array"),
        ('{"f": [{"prefix": 1}]}', "expects a string"),
        ('{"f": [{"wildcard": "*"}]}', "unsupported operator"),
        ('{"f": [{"prefix": "a", "suffix": "b"}]}', "exactly one key"),
        ('{"f": [{"numeric": [">", "1"]}]}', "invalid comparison"),
        ('{"f": [{"numeric": ["<", 1, ">", 0]}]}', "lower bound"),
        ('{"f": [{"numeric": [">", 1, "<"]}]}', "expects [op, number]"),
        ('{"f": [{"exists": "yes"}]}', "true or false"),
        ('{"f": [{"anything-but": []}]}', "a value or an array"),
        ('{"f": [{"anything-but": {"wildcard": "x"}}]}', "unsupported form"),
        ('{"f": [{"equals-ignore-case": ["a"]}]}', "expects a string"),
        ('{"$or": {"a": ["1"]}}', "non-empty array of patterns"),
        ('{"$or": [["a"]]}', "pattern object"),
        ('{"f": [["nested"]]}', "unsupported match value"),
    ],
)
def test_invalid_patterns_are_refused_with_a_reason(pattern_json: str, message: str) -> None:
    with pytest.raises(InvalidFilterPattern, match=message.replace("[", r"\[")):
        compile_pattern(pattern_json)


def test_invalid_filter_pattern_is_a_value_error() -> None:
    assert issubclass(InvalidFilterPattern, ValueError)


# ---------------------------------------------------------------- properties

texts = st.text(max_size=12)
numbers = st.integers(min_value=-1000, max_value=1000)


@given(expected=texts, value=texts)
def test_exact_string_matching_is_equality(expected: str, value: str) -> None:
    assert _matches({"f": [expected]}, {"f": value}) is (expected == value)


@given(prefix=texts, value=texts)
def test_prefix_and_suffix_agree_with_python(prefix: str, value: str) -> None:
    assert _matches({"f": [{"prefix": prefix}]}, {"f": value}) is value.startswith(prefix)
    assert _matches({"f": [{"suffix": prefix}]}, {"f": value}) is value.endswith(prefix)


@given(excluded=st.lists(texts, min_size=1, max_size=4), value=texts)
def test_anything_but_is_the_complement_of_exact_match_for_present_values(
    excluded: list[str], value: str
) -> None:
    exact = _matches({"f": excluded}, {"f": value})
    assert _matches({"f": [{"anything-but": excluded}]}, {"f": value}) is not exact


@given(low=numbers, high=numbers, value=numbers)
def test_numeric_ranges_agree_with_python_comparisons(low: int, high: int, value: int) -> None:
    pattern = {"f": [{"numeric": [">", low, "<=", high]}]}
    assert _matches(pattern, {"f": value}) is (low < value <= high)


@given(values=st.lists(texts, min_size=1, max_size=5), target=texts)
def test_an_array_in_the_event_matches_when_any_element_does(
    values: list[str], target: str
) -> None:
    assert _matches({"f": [target]}, {"f": values}) is (target in values)
