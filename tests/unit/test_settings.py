"""Settings come from environment variables, with bounds; a bad value names its variable."""

from __future__ import annotations

import pytest

from harvest.settings import Settings


def test_defaults_hold_without_any_variable() -> None:
    settings = Settings.from_environ({})

    assert settings.table_name == "harvest-local"
    assert settings.max_body_bytes == 16 * 1024
    assert settings.bedrock_model_id is None
    assert settings.cors_origins == ["*"]


def test_variables_are_parsed_by_the_type_of_their_field() -> None:
    settings = Settings.from_environ(
        {
            "TABLE_NAME": "t",
            "GUIDANCE_DAILY_BUDGET": "7",
            "FEED_MAX_RADIUS_KM": "12.5",
            "BEDROCK_MODEL_ID": "  ",
            "CORS_ALLOWED_ORIGINS": "https://a.example.org, https://b.example.org,",
            "UNRELATED": "ignored",
        }
    )

    assert (settings.table_name, settings.guidance_daily_budget) == ("t", 7)
    assert settings.feed_max_radius_km == 12.5
    assert settings.bedrock_model_id is None  # the template passes an empty parameter
    assert settings.cors_origins == ["https://a.example.org", "https://b.example.org"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("MAX_BODY_BYTES", "100", "MAX_BODY_BYTES must be at least 1024"),
        ("GUIDANCE_DAILY_BUDGET", "many", "GUIDANCE_DAILY_BUDGET='many' is not a valid int"),
        ("FEED_MAX_RADIUS_KM", "0", "FEED_MAX_RADIUS_KM must be above 0"),
        ("FEED_MAX_RADIUS_KM", "nan", "is not a finite number"),
        ("SIGNAL_K_ANONYMITY", "2.5", "SIGNAL_K_ANONYMITY='2.5' is not a valid int"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        Settings.from_environ({variable: value})


def test_settings_are_immutable() -> None:
    settings = Settings.from_environ({})

    with pytest.raises(AttributeError):
        settings.table_name = "other"  # type: ignore[misc]
