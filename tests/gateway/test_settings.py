"""Gateway settings: a TOML file, CIVIC_HARNESS_* variables over it, DATABASE_URL; secrets never in a repr."""

from __future__ import annotations

import pytest

from gateway.settings import Settings
from gateway.storage.engine import normalise_url


def test_environment_overrides_the_file(tmp_path):
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[gateway]\ndatabase_url = "sqlite:///a.db"\njurisdiction_id = "a.gov"\n'
        "max_page_size = 50\ndefault_page_size = 20\n"
    )
    env = {"CIVIC_HARNESS_JURISDICTION_ID": "b.gov", "CIVIC_HARNESS_API_KEYS": "key-one-1, key-two-2"}
    settings = Settings.load(config, env)
    assert settings.database_url == "sqlite:///a.db" and settings.jurisdiction_id == "b.gov"
    assert settings.api_keys == ("key-one-1", "key-two-2") and settings.max_page_size == 50
    assert Settings.load(None, {"DATABASE_URL": "postgresql://x@h/db"}).database_url == "postgresql://x@h/db"
    both = {"DATABASE_URL": "postgresql://x@h/db", "CIVIC_HARNESS_DATABASE_URL": "sqlite:///b.db"}
    assert Settings.load(None, both).database_url == "sqlite:///b.db"


def test_secrets_stay_out_of_the_repr():
    settings = Settings(admin_token="an-admin-token-0123", api_keys=("an-api-key-0123",))
    assert "an-admin-token" not in repr(settings) and "an-api-key" not in repr(settings)


@pytest.mark.parametrize(
    "env",
    [{"CIVIC_HARNESS_ADMIN_TOKEN": "short"}, {"CIVIC_HARNESS_API_KEYS": "tiny"}, {"CIVIC_HARNESS_MAX_PAGE_SIZE": "x"}],
)
def test_bad_settings_are_refused(env):
    with pytest.raises(ValueError):
        Settings.load(None, env)


def test_unknown_settings_in_the_file_are_refused(tmp_path):
    config = tmp_path / "gateway.toml"
    config.write_text('[gateway]\ndatabse_url = "typo"\n')
    with pytest.raises(ValueError, match="databse_url"):
        Settings.load(config, {})


def test_database_urls_as_people_write_them():
    assert normalise_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
