"""Configuration from environment variables (names listed in README and set in template.yaml)."""

from __future__ import annotations

import os
from functools import cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# True inside an AWS Lambda container. Powertools writes the cold-start metric even with
# metrics disabled, so handlers capture it only there (not in tests or the local runtime).
IN_LAMBDA = "AWS_LAMBDA_FUNCTION_NAME" in os.environ


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    table_name: str = Field(default="harvest-local", validation_alias="TABLE_NAME")
    aws_region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    # Production reads the cursor signing key from SSM (SecureString, cached by Powertools);
    # local runs may give the key directly.
    cursor_key_parameter: str | None = Field(default=None, validation_alias="CURSOR_KEY_PARAMETER")
    cursor_key: str = Field(default="local-development-cursor-key", validation_alias="CURSOR_KEY")
    idempotency_ttl_hours: int = Field(default=24, ge=1, validation_alias="IDEMPOTENCY_TTL_HOURS")
    max_body_bytes: int = Field(default=16 * 1024, ge=1024, validation_alias="MAX_BODY_BYTES")
    feed_max_radius_km: float = Field(default=50.0, gt=0, validation_alias="FEED_MAX_RADIUS_KM")
    # Stream consumers: the publisher's EventBridge bus, and how much of the invocation's
    # time must be left before a consumer starts on another record (the rest is handed back
    # to Lambda for retry instead of dying with a timeout halfway through a record).
    event_bus_name: str = Field(default="harvest-local", validation_alias="EVENT_BUS_NAME")
    consumer_min_remaining_ms: int = Field(
        default=2000, ge=0, validation_alias="CONSUMER_MIN_REMAINING_MS"
    )
    # k-anonymity of community signals (DESIGN §5): distinct contributors a crop needs in a
    # window before any figure of it is published. The API and the insight worker must agree.
    signal_k: int = Field(default=3, ge=1, validation_alias="SIGNAL_K_ANONYMITY")
    # The AI worker's Bedrock model; unset (the local default): deterministic fallbacks only.
    bedrock_model_id: str | None = Field(default=None, validation_alias="BEDROCK_MODEL_ID")

    ai_cache_ttl_hours: int = Field(default=24, ge=1, validation_alias="AI_CACHE_TTL_HOURS")
    # At most one explanation per area and window in this many minutes (issue 9), and only
    # when a classification or the ranking of crops changed.
    ai_explain_debounce_minutes: int = Field(
        default=30, ge=0, validation_alias="AI_EXPLAIN_DEBOUNCE_MINUTES"
    )
    guidance_daily_budget: int = Field(default=5, ge=1, validation_alias="GUIDANCE_DAILY_BUDGET")

    @field_validator("bedrock_model_id")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        # The template passes its parameter through; an empty one means "no model".
        return value.strip() or None if value is not None else None


@cache
def get_settings() -> Settings:
    return Settings()
