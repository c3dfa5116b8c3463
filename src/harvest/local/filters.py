"""Lambda event filtering (the EventBridge pattern language) for the local stream pollers.

A pattern is a JSON object whose leaves are arrays of match values; a record matches when every
field of the pattern matches. Arrays in the record match when any element matches, and objects
inside arrays are flattened the way EventBridge does, so element boundaries are not kept.
Filters of one FilterCriteria are OR'ed; no filters means every record goes through.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["InvalidFilterPattern", "Pattern", "compile_pattern", "matches_any"]


class InvalidFilterPattern(ValueError):
    """The FilterCriteria pattern is not JSON or not a pattern Lambda would accept."""


# A leaf test receives every primitive found at its path (possibly none) and decides.
_LeafTest = Callable[[list[object]], bool]

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_LOWER_BOUNDS = (">", ">=")
_UPPER_BOUNDS = ("<", "<=")


@dataclass(frozen=True)
class _Leaf:
    tests: tuple[_LeafTest, ...]

    def matches(self, values: list[object]) -> bool:
        # Exists is about primitives only: an object at the path is not a leaf value.
        primitives = [value for value in values if not isinstance(value, Mapping)]
        return any(test(primitives) for test in self.tests)


@dataclass(frozen=True)
class _Node:
    fields: tuple[tuple[str, _Node | _Leaf], ...]
    alternatives: tuple[tuple[_Node, ...], ...] = ()


@dataclass(frozen=True)
class Pattern:
    """A compiled filter pattern; `source` is the JSON it came from."""

    source: str
    root: _Node = field(repr=False, compare=False)

    def matches(self, event: Mapping[str, Any]) -> bool:
        return _match_node(self.root, [event])


def compile_pattern(pattern_json: str) -> Pattern:
    try:
        document = json.loads(pattern_json)
    except (TypeError, json.JSONDecodeError) as error:
        raise InvalidFilterPattern(f"filter pattern is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise InvalidFilterPattern("filter pattern must be a JSON object")
    return Pattern(source=pattern_json, root=_compile_node(document, ""))


def matches_any(patterns: Iterable[Pattern], event: Mapping[str, Any]) -> bool:
    compiled = tuple(patterns)
    return not compiled or any(pattern.matches(event) for pattern in compiled)


# ---------------------------------------------------------------- matching


def _match_node(node: _Node, candidates: list[object]) -> bool:
    for key, child in node.fields:
        values = _children(candidates, key)
        matched = child.matches(values) if isinstance(child, _Leaf) else _match_node(child, values)
        if not matched:
            return False
    return all(
        any(_match_node(alternative, candidates) for alternative in alternatives)
        for alternatives in node.alternatives
    )


def _children(candidates: list[object], key: str) -> list[object]:
    found: list[object] = []
    for candidate in candidates:
        if isinstance(candidate, Mapping) and key in candidate:
            _flatten(candidate[key], found)
    return found


def _flatten(value: object, into: list[object]) -> None:
    if isinstance(value, list | tuple):
        for element in value:
            _flatten(element, into)
    else:
        into.append(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _same(expected: object, value: object) -> bool:
    # JSON keeps true/1 and "1"/1 apart; so does EventBridge.
    if expected is None or isinstance(expected, bool):
        return value is expected
    if _is_number(expected):
        return _is_number(value) and value == expected
    return isinstance(value, str) and value == expected


def _any_value(predicate: Callable[[object], bool]) -> _LeafTest:
    return lambda values: any(predicate(value) for value in values)


def _exact(expected: object) -> _LeafTest:
    return _any_value(lambda value: _same(expected, value))


# ---------------------------------------------------------------- compiling


def _compile_node(document: Mapping[str, Any], path: str) -> _Node:
    fields: list[tuple[str, _Node | _Leaf]] = []
    alternatives: list[tuple[_Node, ...]] = []
    for key, value in document.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            alternatives.append(_compile_or(value, where, path))
        elif isinstance(value, dict):
            fields.append((key, _compile_node(value, where)))
        elif isinstance(value, list):
            fields.append((key, _compile_leaf(value, where)))
        else:
            raise InvalidFilterPattern(
                f"{where}: match values must be in an array, got {json.dumps(value)}"
            )
    return _Node(fields=tuple(fields), alternatives=tuple(alternatives))


def _compile_or(value: object, where: str, path: str) -> tuple[_Node, ...]:
    if not isinstance(value, list) or not value:
        raise InvalidFilterPattern(f"{where}: must be a non-empty array of patterns")
    branches: list[_Node] = []
    for index, branch in enumerate(value):
        if not isinstance(branch, dict) or not branch:
            raise InvalidFilterPattern(f"{where}[{index}]: each branch must be a pattern object")
        branches.append(_compile_node(branch, path))
    return tuple(branches)


def _compile_leaf(values: Sequence[object], where: str) -> _Leaf:
    if not values:
        raise InvalidFilterPattern(f"{where}: an empty array of match values matches nothing")
    tests: list[_LeafTest] = []
    for value in values:
        if isinstance(value, dict):
            tests.append(_compile_operator(value, where))
        elif value is None or isinstance(value, str | bool | int | float):
            tests.append(_exact(value))
        else:
            raise InvalidFilterPattern(f"{where}: unsupported match value {json.dumps(value)}")
    return _Leaf(tests=tuple(tests))


def _compile_operator(spec: Mapping[str, Any], where: str) -> _LeafTest:
    if len(spec) != 1:
        raise InvalidFilterPattern(f"{where}: an operator object has exactly one key: {spec}")
    ((name, argument),) = spec.items()
    compilers: dict[str, Callable[[Any, str], _LeafTest]] = {
        "prefix": _compile_prefix,
        "suffix": _compile_suffix,
        "anything-but": _compile_anything_but,
        "exists": _compile_exists,
        "numeric": _compile_numeric,
        "equals-ignore-case": _compile_equals_ignore_case,
    }
    compiler = compilers.get(name)
    if compiler is None:
        raise InvalidFilterPattern(f"{where}: unsupported operator {name!r}")
    return compiler(argument, f"{where}.{name}")


def _text_argument(argument: object, where: str) -> tuple[str, bool]:
    """A string, or {"equals-ignore-case": string}; returns (text, ignore_case)."""
    if isinstance(argument, str):
        return argument, False
    if isinstance(argument, dict) and set(argument) == {"equals-ignore-case"}:
        text = argument["equals-ignore-case"]
        if isinstance(text, str):
            return text, True
    raise InvalidFilterPattern(f"{where}: expects a string, got {json.dumps(argument)}")


def _string_test(argument: object, where: str, test: Callable[[str, str], bool]) -> _LeafTest:
    text, ignore_case = _text_argument(argument, where)
    if ignore_case:
        folded = text.casefold()
        return _any_value(lambda v: isinstance(v, str) and test(v.casefold(), folded))
    return _any_value(lambda v: isinstance(v, str) and test(v, text))


def _compile_prefix(argument: object, where: str) -> _LeafTest:
    return _string_test(argument, where, str.startswith)


def _compile_suffix(argument: object, where: str) -> _LeafTest:
    return _string_test(argument, where, str.endswith)


def _compile_equals_ignore_case(argument: object, where: str) -> _LeafTest:
    if not isinstance(argument, str):
        raise InvalidFilterPattern(f"{where}: expects a string, got {json.dumps(argument)}")
    folded = argument.casefold()
    return _any_value(lambda v: isinstance(v, str) and v.casefold() == folded)


def _compile_exists(argument: object, where: str) -> _LeafTest:
    if not isinstance(argument, bool):
        raise InvalidFilterPattern(f"{where}: expects true or false")
    return lambda primitives: bool(primitives) is argument


def _compile_anything_but(argument: object, where: str) -> _LeafTest:
    if isinstance(argument, dict):
        if set(argument) == {"prefix"}:
            text, _ = _text_argument(argument["prefix"], f"{where}.prefix")
            return _any_value(lambda v: not (isinstance(v, str) and v.startswith(text)))
        if set(argument) == {"suffix"}:
            text, _ = _text_argument(argument["suffix"], f"{where}.suffix")
            return _any_value(lambda v: not (isinstance(v, str) and v.endswith(text)))
        if set(argument) == {"equals-ignore-case"}:
            raw = argument["equals-ignore-case"]
            texts = raw if isinstance(raw, list) else [raw]
            if not texts or not all(isinstance(text, str) for text in texts):
                raise InvalidFilterPattern(f"{where}: equals-ignore-case expects strings")
            folded = {str(text).casefold() for text in texts}
            return _any_value(lambda v: not (isinstance(v, str) and v.casefold() in folded))
        raise InvalidFilterPattern(f"{where}: unsupported form {json.dumps(argument)}")
    excluded = argument if isinstance(argument, list) else [argument]
    if not excluded or any(isinstance(value, dict | list) for value in excluded):
        raise InvalidFilterPattern(f"{where}: expects a value or an array of values")
    return _any_value(lambda v: not any(_same(value, v) for value in excluded))


def _compile_numeric(argument: object, where: str) -> _LeafTest:
    if not isinstance(argument, list) or len(argument) not in (2, 4):
        raise InvalidFilterPattern(f"{where}: expects [op, number] or [op, number, op, number]")
    pairs = [(argument[index], argument[index + 1]) for index in range(0, len(argument), 2)]
    for op, number in pairs:
        if op not in _COMPARISONS or not _is_number(number):
            raise InvalidFilterPattern(f"{where}: invalid comparison {op!r} {number!r}")
    if len(pairs) == 2 and (pairs[0][0] not in _LOWER_BOUNDS or pairs[1][0] not in _UPPER_BOUNDS):
        raise InvalidFilterPattern(f"{where}: a range is a lower bound (> or >=) then < or <=")
    checks = [(_COMPARISONS[op], number) for op, number in pairs]
    return _any_value(lambda v: _is_number(v) and all(check(v, n) for check, n in checks))
