"""Event source mappings read from template.yaml, so local pollers run with the deployed settings.

Only what a poller needs is taken: the DynamoDB stream events of every AWS::Serverless::Function,
the handler, its sizing, and its environment (Globals merged under the function's own).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from harvest.local.filters import InvalidFilterPattern, Pattern, compile_pattern
from harvest.tools.template import TABLE_LOGICAL_ID

__all__ = [
    "FunctionSettings",
    "MappingConfig",
    "StartingPosition",
    "function_settings",
    "mappings_from_template",
    "resolve_name",
]

log = logging.getLogger("harvest.local.mappings")

StartingPosition = Literal["TRIM_HORIZON", "LATEST"]

# Lambda's documented limits for DynamoDB stream mappings (services-ddb-params).
MAX_BATCH_SIZE = 10_000
MAX_BATCHING_WINDOW_S = 300
MAX_RETRY_ATTEMPTS = 10_000
MIN_RECORD_AGE_S = 60
MAX_RECORD_AGE_S = 604_800

# Returns the string value of a CloudFormation intrinsic, or None to leave the variable unset.
Resolver = Callable[[Any], str | None]


@dataclass(frozen=True)
class MappingConfig:
    function_logical_id: str
    handler: str
    batch_size: int = 100
    maximum_batching_window_s: float = 0
    starting_position: StartingPosition = "TRIM_HORIZON"
    patterns: tuple[Pattern, ...] = ()
    report_batch_item_failures: bool = False
    bisect_on_error: bool = False
    maximum_retry_attempts: int = -1
    maximum_record_age_s: int = -1
    on_failure_destination: str | None = None
    environment: dict[str, str] = field(default_factory=dict, hash=False)
    function_name: str = ""
    event_name: str = "Stream"
    timeout_s: float = 3
    memory_mb: int = 128

    def __post_init__(self) -> None:
        if not self.function_name:
            object.__setattr__(self, "function_name", self.function_logical_id)
        problems = []
        if "." not in self.handler:
            problems.append(f"handler {self.handler!r} is not 'module.function'")
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            problems.append(f"BatchSize {self.batch_size} is outside 1..{MAX_BATCH_SIZE}")
        if not 0 <= self.maximum_batching_window_s <= MAX_BATCHING_WINDOW_S:
            problems.append(f"MaximumBatchingWindowInSeconds must be 0..{MAX_BATCHING_WINDOW_S}")
        if self.starting_position not in ("TRIM_HORIZON", "LATEST"):
            problems.append(f"StartingPosition {self.starting_position!r} is not supported")
        if not -1 <= self.maximum_retry_attempts <= MAX_RETRY_ATTEMPTS:
            problems.append(f"MaximumRetryAttempts must be -1..{MAX_RETRY_ATTEMPTS}")
        age = self.maximum_record_age_s
        if age != -1 and not MIN_RECORD_AGE_S <= age <= MAX_RECORD_AGE_S:
            problems.append(f"MaximumRecordAgeInSeconds must be -1 or 60..{MAX_RECORD_AGE_S}")
        if self.timeout_s <= 0:
            problems.append("Timeout must be positive")
        if problems:
            raise ValueError(f"{self.function_logical_id}: " + "; ".join(problems))


def mappings_from_template(
    template: Mapping[str, Any], table_name: str, resolve: Resolver | None = None
) -> list[MappingConfig]:
    """One MappingConfig per `Type: DynamoDB` event of every serverless function.

    Raises InvalidFilterPattern (naming the function) for a FilterCriteria Lambda would refuse,
    so a broken filter stops the local runtime at start-up instead of dropping records.
    """
    intrinsics = _Intrinsics(template, table_name, resolve)
    globals_function: Mapping[str, Any] = template.get("Globals", {}).get("Function", {}) or {}
    configs: list[MappingConfig] = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties: Mapping[str, Any] = resource.get("Properties") or {}
        for event_name, event in (properties.get("Events") or {}).items():
            if event.get("Type") != "DynamoDB":
                continue
            configs.append(
                _mapping(
                    logical_id,
                    event_name,
                    event.get("Properties") or {},
                    properties,
                    globals_function,
                    intrinsics,
                )
            )
    return configs


def _mapping(
    logical_id: str,
    event_name: str,
    event: Mapping[str, Any],
    function: Mapping[str, Any],
    globals_function: Mapping[str, Any],
    intrinsics: _Intrinsics,
) -> MappingConfig:
    def setting(name: str) -> Any:
        return function.get(name, globals_function.get(name))

    environment = {
        name: resolved
        for name, value in {
            **_variables(globals_function),
            **_variables(function),
        }.items()
        if (resolved := intrinsics.resolve(value)) is not None
    }
    handler = setting("Handler")
    if not isinstance(handler, str):
        raise ValueError(f"{logical_id}: Handler must be a 'module.function' string")
    return MappingConfig(
        function_logical_id=logical_id,
        handler=handler,
        batch_size=int(event.get("BatchSize", 100)),
        maximum_batching_window_s=float(event.get("MaximumBatchingWindowInSeconds", 0)),
        starting_position=event.get("StartingPosition", "TRIM_HORIZON"),
        patterns=_patterns(logical_id, event_name, event.get("FilterCriteria")),
        report_batch_item_failures="ReportBatchItemFailures"
        in (event.get("FunctionResponseTypes") or []),
        bisect_on_error=bool(event.get("BisectBatchOnFunctionError", False)),
        maximum_retry_attempts=int(event.get("MaximumRetryAttempts", -1)),
        maximum_record_age_s=int(event.get("MaximumRecordAgeInSeconds", -1)),
        on_failure_destination=_destination(event.get("DestinationConfig")),
        environment=environment,
        function_name=intrinsics.resolve(function.get("FunctionName")) or logical_id,
        event_name=event_name,
        timeout_s=_number(setting("Timeout"), 3),
        memory_mb=int(_number(setting("MemorySize"), 128)),
    )


def _patterns(logical_id: str, event_name: str, criteria: object) -> tuple[Pattern, ...]:
    if not criteria:
        return ()
    filters = criteria.get("Filters") if isinstance(criteria, Mapping) else None
    if not isinstance(filters, list):
        raise InvalidFilterPattern(f"{logical_id} ({event_name}): FilterCriteria needs Filters")
    compiled = []
    for index, entry in enumerate(filters):
        pattern = entry.get("Pattern") if isinstance(entry, Mapping) else None
        # SAM passes a YAML mapping through as JSON; Lambda itself only ever sees the string.
        text = json.dumps(pattern) if isinstance(pattern, dict) else pattern
        if not isinstance(text, str):
            raise InvalidFilterPattern(
                f"{logical_id} ({event_name}): filter {index} has no Pattern string"
            )
        try:
            compiled.append(compile_pattern(text))
        except InvalidFilterPattern as error:
            raise InvalidFilterPattern(
                f"{logical_id} ({event_name}): filter {index}: {error}"
            ) from error
    return tuple(compiled)


def _destination(config: object) -> str | None:
    if not isinstance(config, Mapping):
        return None
    target = (config.get("OnFailure") or {}).get("Destination")
    if isinstance(target, str):
        return target
    if isinstance(target, Mapping):
        if "Ref" in target:
            return str(target["Ref"])
        attribute = target.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute:
            return str(attribute[0])
        if isinstance(attribute, str):
            return attribute.split(".", 1)[0]
    return None


def _variables(function: Mapping[str, Any]) -> dict[str, Any]:
    """A function's variables, but the names of SSM parameters holding keys: a local run
    has no SSM, the runtime gives the keys themselves (CURSOR_KEY, SIGNAL_NOISE_KEY)."""
    variables = (function.get("Environment") or {}).get("Variables") or {}
    return {name: value for name, value in variables.items() if not name.endswith("_KEY_PARAMETER")}


def _number(value: object, default: float) -> float:
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


_SUB_REFERENCE = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass(frozen=True)
class _Intrinsics:
    """Resolves the few intrinsics a local run can know: the table and parameter defaults."""

    template: Mapping[str, Any]
    table_name: str
    fallback: Resolver | None

    def resolve(self, value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
        resolved = self._known(value)
        if resolved is None and self.fallback is not None:
            resolved = self.fallback(value)
        if resolved is None:
            log.debug("leaving unresolved intrinsic %r unset", value)
        return resolved

    def _known(self, value: object) -> str | None:
        if not isinstance(value, Mapping) or len(value) != 1:
            return None
        if "Ref" in value:
            return self._reference(str(value["Ref"]))
        template = value.get("Fn::Sub")
        if isinstance(template, str):
            names = _SUB_REFERENCE.findall(template)
            values = {name: self._reference(name) for name in names}
            if any(resolved is None for resolved in values.values()):
                return None
            return _SUB_REFERENCE.sub(lambda match: str(values[match.group(1)]), template)
        return None

    def _reference(self, name: str) -> str | None:
        if name == TABLE_LOGICAL_ID:
            return self.table_name
        parameter = (self.template.get("Parameters") or {}).get(name)
        if isinstance(parameter, Mapping) and "Default" in parameter:
            return str(parameter["Default"])
        return None


def checkpoint_key(stream_arn: str, mapping: MappingConfig) -> str:
    """Where a mapping's shard positions are kept in its checkpoint file (one per stream:
    a new table has a new stream, and the positions of the old one mean nothing there)."""
    return f"{stream_arn}|{mapping.function_logical_id}|{mapping.event_name}"


# ---------------------------------------------------------------- for local/rules.py (issue 9)
@dataclass(frozen=True)
class FunctionSettings:
    """What the SQS event source emulation needs of a function: how to call it and with what."""

    logical_id: str
    handler: str
    function_name: str
    environment: dict[str, str]
    timeout_s: float
    memory_mb: int


def function_settings(
    template: Mapping[str, Any], logical_id: str, table_name: str, resolve: Resolver | None = None
) -> FunctionSettings:
    """A function's handler, name, environment (Globals merged under its own), timeout and
    memory, resolved as for its stream mappings."""
    intrinsics = _Intrinsics(template, table_name, resolve)
    globals_function: Mapping[str, Any] = template.get("Globals", {}).get("Function", {}) or {}
    function: Mapping[str, Any] = template["Resources"][logical_id].get("Properties") or {}
    handler = function.get("Handler", globals_function.get("Handler"))
    if not isinstance(handler, str) or "." not in handler:
        raise ValueError(f"{logical_id}: Handler must be a 'module.function' string")
    variables = {**_variables(globals_function), **_variables(function)}
    return FunctionSettings(
        logical_id=logical_id,
        handler=handler,
        function_name=intrinsics.resolve(function.get("FunctionName")) or logical_id,
        environment={
            name: resolved
            for name, value in variables.items()
            if (resolved := intrinsics.resolve(value)) is not None
        },
        timeout_s=_number(function.get("Timeout", globals_function.get("Timeout")), 3),
        memory_mb=int(_number(function.get("MemorySize", globals_function.get("MemorySize")), 128)),
    )


def resolve_name(template: Mapping[str, Any], value: object, table_name: str) -> str | None:
    """A resource name as the template gives it (a string, Ref to a parameter, Fn::Sub)."""
    return _Intrinsics(template, table_name, None).resolve(value)
