"""Settings: defaults, parsing, and bad values that stop start-up naming the variable."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from surveys.settings import SettingsError, load_settings


def test_defaults_run_offline_on_a_local_sqlite_file():
    settings = load_settings({})
    assert settings.database_url == "sqlite+aiosqlite:///followup.db"
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert settings.reminder_days == (3, 7)
    assert settings.suppress_below == 5


def test_lists_and_urls_are_parsed():
    settings = load_settings(
        {
            "FOLLOWUP_ADMIN_IDS": "10, 20",
            "FOLLOWUP_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
            "FOLLOWUP_SEND_WINDOW": "10:00-15:00",
        }
    )
    assert settings.admin_ids == (10, 20)
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert [t.hour for t in settings.window] == [10, 15]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FOLLOWUP_ADMIN_IDS", "ten"),
        ("FOLLOWUP_TIMEZONE", "Europe/Atlantis"),
        ("FOLLOWUP_SEND_WINDOW", "17:00-09:00"),
        ("FOLLOWUP_SUPPRESS_BELOW", "2"),
        ("FOLLOWUP_REMINDER_DAYS", "7,3"),
        ("FOLLOWUP_DATABASE_URL", "followup.db"),
        ("FOLLOWUP_LOG_LEVEL", "LOUD"),
    ],
)
def test_a_bad_value_is_an_error_that_names_the_variable(variable, value):
    with pytest.raises(SettingsError, match=variable):
        load_settings({variable: value})


def test_settings_are_frozen():
    settings = load_settings({})
    with pytest.raises(ValidationError):
        settings.suppress_below = 1  # type: ignore[misc]


def test_the_token_is_never_shown_in_the_settings_repr():
    settings = load_settings({"FOLLOWUP_BOT_TOKEN": "123456:SECRET-token"})
    assert "SECRET" not in repr(settings)
    assert settings.bot_token.get_secret_value() == "123456:SECRET-token"
