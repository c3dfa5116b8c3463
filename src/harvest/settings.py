"""Configuration from environment variables (names listed in README and set in template.yaml).

A frozen dataclass read from os.environ, not pydantic-settings: a dozen scalars need no
schema machinery, and importing pydantic-settings (and pydantic with it) cost every Lambda
cold start ~54 ms before any handler code ran (bench/cold_start.py). Each field names its
variable and bounds in its metadata; a bad value is a ValueError naming the variable.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from harvest.domain.signals import SignalPolicy

# True inside an AWS Lambda container. Powertools writes the cold-start metric even with
# metrics disabled, so handlers capture it only there (not in tests or the local runtime).
IN_LAMBDA = "AWS_LAMBDA_FUNCTION_NAME" in os.environ


def _env(
    name: str, default: Any, *, minimum: float | None = None, above: float | None = None
) -> Any:
    return field(default=default, metadata={"env": name, "minimum": minimum, "above": above})


class _FromEnviron:
    """Reads every dataclass field of the class from the variable its metadata names."""

    __slots__ = ()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        values: dict[str, Any] = {}
        for spec in fields(cls):  # type: ignore[arg-type]
            raw = environ.get(spec.metadata["env"])
            if raw is not None:
                values[spec.name] = _parse(spec.metadata, str(spec.type), raw)
        return cls(**values)


# Each entry point reads its own settings class (its bootstrap builds from it, once per
# container); the local runtime, which runs every function in one process, gives each
# function its own environment while that function builds. The shared groups are mixins.


@dataclass(frozen=True)
class TableSettings(_FromEnviron):
    """What every function needs: the table and the region."""

    table_name: str = _env("TABLE_NAME", "harvest-local")
    aws_region: str = _env("AWS_REGION", "us-east-1")


@dataclass(frozen=True)
class ConsumerSettings(TableSettings):
    # How much of the invocation's time must be left before a consumer starts on another
    # record (the rest is handed back to Lambda for retry instead of dying with a timeout
    # halfway through a record).
    consumer_min_remaining_ms: int = _env("CONSUMER_MIN_REMAINING_MS", 2000, minimum=0)


@dataclass(frozen=True)
class SignalSettings:
    # k-anonymity of community signals (DESIGN §5): distinct contributors a crop needs in a
    # window before any figure of it is published. The API and the insight worker must agree.
    signal_k: int = _env("SIGNAL_K_ANONYMITY", 3, minimum=1)
    # Noise on every published figure (domain.noise, docs/privacy.md): the Laplace scale of
    # quantities (in a crop's canonical unit) and of counts (in items); 0 switches one off.
    # Its HMAC key: an SSM SecureString in the template, a per-data-dir secret locally.
    # Every function that computes signals must use the same key and scales.
    signal_noise_quantity: float = _env("SIGNAL_NOISE_QUANTITY", 2.0, minimum=0)
    signal_noise_count: float = _env("SIGNAL_NOISE_COUNT", 1.0, minimum=0)
    signal_noise_key_parameter: str | None = _env("SIGNAL_NOISE_KEY_PARAMETER", None)
    signal_noise_key: str = _env("SIGNAL_NOISE_KEY", "local-development-signal-noise-key")


@dataclass(frozen=True)
class ModelSettings:
    # The AI worker's Bedrock model; unset or empty (the template passes its parameter
    # through): deterministic fallbacks only.
    bedrock_model_id: str | None = _env("BEDROCK_MODEL_ID", None)


@dataclass(frozen=True)
class ApiSettings(SignalSettings, ModelSettings, TableSettings):
    # Production reads the cursor signing key from SSM (SecureString, cached by Powertools);
    # local runs may give the key directly.
    cursor_key_parameter: str | None = _env("CURSOR_KEY_PARAMETER", None)
    cursor_key: str = _env("CURSOR_KEY", "local-development-cursor-key")
    idempotency_ttl_hours: int = _env("IDEMPOTENCY_TTL_HOURS", 24, minimum=1)
    max_body_bytes: int = _env("MAX_BODY_BYTES", 16 * 1024, minimum=1024)
    feed_max_radius_km: float = _env("FEED_MAX_RADIUS_KM", 50.0, above=0)
    guidance_daily_budget: int = _env("GUIDANCE_DAILY_BUDGET", 5, minimum=1)
    # Browser origins allowed to call the API (comma-separated; "*" for any). Tokens travel
    # in the Authorization header, never in cookies, so "*" lends no ambient credentials.
    cors_allowed_origins: str = _env("CORS_ALLOWED_ORIGINS", "*")

    @property
    def cors_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_allowed_origins.split(",") if origin.strip()]


@dataclass(frozen=True)
class PublisherSettings(ConsumerSettings):
    event_bus_name: str = _env("EVENT_BUS_NAME", "harvest-local")


@dataclass(frozen=True)
class DerivationSettings(SignalSettings, ConsumerSettings):
    pass


@dataclass(frozen=True)
class RefreshSettings(SignalSettings, ConsumerSettings):
    """The insight refresher's: the derivation consumer's computation, on a schedule."""


@dataclass(frozen=True)
class WebSocketSettings(TableSettings):
    """The WebSocket API's $connect authorizer and route function (issue 15): the user pool
    whose id tokens $connect accepts."""

    user_pool_id: str | None = _env("USER_POOL_ID", None)
    user_pool_client_id: str | None = _env("USER_POOL_CLIENT_ID", None)


@dataclass(frozen=True)
class DeliverySettings(ConsumerSettings):
    # The API Gateway Management API endpoint pushes go to
    # (https://{api}.execute-api.{region}.amazonaws.com/{stage}; the local emulator locally).
    websocket_management_endpoint: str | None = _env("WEBSOCKET_MANAGEMENT_ENDPOINT", None)


@dataclass(frozen=True)
class MatchingSettings(ConsumerSettings):
    """The matching worker's: the table and its time budget, nothing of the signals."""


@dataclass(frozen=True)
class AdvisorSettings(SignalSettings, ModelSettings, ConsumerSettings):
    ai_cache_ttl_hours: int = _env("AI_CACHE_TTL_HOURS", 24, minimum=1)
    # At most one explanation per area and window in this many minutes (issue 9), and only
    # when a classification or the ranking of crops changed.
    ai_explain_debounce_minutes: int = _env("AI_EXPLAIN_DEBOUNCE_MINUTES", 30, minimum=0)


@dataclass(frozen=True)
class Settings(
    AdvisorSettings,
    DerivationSettings,
    PublisherSettings,
    DeliverySettings,
    WebSocketSettings,
    ApiSettings,
):
    """Every variable: what the CLI and the tools read (they act for every function)."""


def signal_policy(settings: SignalSettings) -> SignalPolicy:
    """The signal policy every function that computes signals uses: k and the noise, keyed
    by the SSM parameter when one is named (read through Powertools, cached 5 min)."""
    from harvest.domain.noise import KeyedNoise  # noqa: PLC0415 - only signal functions
    from harvest.domain.signals import SignalPolicy  # noqa: PLC0415

    noise = None
    if settings.signal_noise_quantity > 0 or settings.signal_noise_count > 0:
        key = settings.signal_noise_key
        if settings.signal_noise_key_parameter:
            from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

            name = settings.signal_noise_key_parameter
            key = str(parameters.get_parameter(name, decrypt=True, max_age=300))
        noise = KeyedNoise(
            key.encode(),
            Decimal(str(settings.signal_noise_quantity)),
            settings.signal_noise_count,
        )
    return SignalPolicy(k=settings.signal_k, noise=noise)


def _parse(metadata: Mapping[str, Any], kind: str, raw: str) -> Any:
    name = metadata["env"]
    if kind == "str | None":
        return raw.strip() or None
    if kind == "str":
        return raw
    try:
        value: float = int(raw) if kind == "int" else float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw[:40]!r} is not a valid {kind}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}={raw[:40]!r} is not a finite number")
    if metadata["minimum"] is not None and value < metadata["minimum"]:
        raise ValueError(f"{name} must be at least {metadata['minimum']}, not {raw[:40]}")
    if metadata["above"] is not None and value <= metadata["above"]:
        raise ValueError(f"{name} must be above {metadata['above']}, not {raw[:40]}")
    return value


def current_settings() -> Settings:
    """Every variable as the environment holds it now (the CLI, the tools; not cached, so
    nothing has to forget it)."""
    return Settings.from_environ(os.environ)
