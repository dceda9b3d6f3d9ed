"""Settings: flags over environment over config file over defaults; bundle placeholders count as unset."""

from __future__ import annotations

from pathlib import Path

import pytest
from mvsep_mcp.config import DEFAULT_TOOLSETS, ConfigError, load_settings, store_token

STORED = "StoredToken" + "0" * 18 + "1"  # shaped like a real one (30 alphanumerics), obviously fake


def env_for(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"MVSEP_CONFIG": str(tmp_path / "config.toml"), "MVSEP_CREDENTIALS": str(tmp_path / "cred.json"), **values}


def test_precedence(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('output_format = "mp3"\nbase_url = "http://file.example/api"\n'
                                          'toolsets = "all"\n', encoding="utf-8")
    settings = load_settings({"base_url": "http://flag.example/api"},
                             env_for(tmp_path, MVSEP_BASE_URL="http://env.example/api", MVSEP_OUTPUT_FORMAT="wav"))
    assert settings.base_url == "http://flag.example/api"
    assert settings.output_format == "wav"
    assert "quality" in settings.toolsets and "auth" not in settings.toolsets


def test_defaults_and_placeholders(tmp_path: Path) -> None:
    settings = load_settings({}, env_for(tmp_path, MVSEP_API_TOKEN="${user_config.api_token}",
                                         MVSEP_OUTPUT_DIR="${user_config.output_dir}", MVSEP_TOOLSETS=""))
    assert settings.token is None and settings.token_source == "none"
    assert settings.toolsets == DEFAULT_TOOLSETS
    assert settings.output_dir.name == "MVSep"


def test_stored_token_is_used_and_never_shown(tmp_path: Path) -> None:
    store_token(STORED, tmp_path / "cred.json")
    settings = load_settings({}, env_for(tmp_path))
    assert settings.token is not None and settings.token.get_secret_value() == STORED
    assert settings.token_source == "credentials file"
    assert "StoredToken" not in repr(settings) and "StoredToken" not in str(settings.model_dump())


@pytest.mark.parametrize("name, value, message", [
    ("MVSEP_BASE_URL", "mvsep.com/api", "MVSEP_BASE_URL must start with http:// or https://"),
    ("MVSEP_OUTPUT_FORMAT", "ogg", "MVSEP_OUTPUT_FORMAT 'ogg' is not one of mp3, wav, flac, m4a, wav32, flac24."),
    ("MVSEP_POLL_INTERVAL", "soon", "MVSEP_POLL_INTERVAL must be a number of seconds"),
])
def test_bad_values_name_the_setting(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(").replace(".", r"\.")):
        load_settings({}, env_for(tmp_path, **{name: value}))


def test_unreadable_config_file(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("this is = = not toml", encoding="utf-8")
    with pytest.raises(ConfigError, match="could not be read"):
        load_settings({}, env_for(tmp_path))


def test_unknown_toolsets_are_ignored_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings({}, env_for(tmp_path, MVSEP_TOOLSETS="catalog, bogus,Quality"))
    assert settings.toolsets == ("catalog", "quality")
    assert settings.ignored_toolsets == ("bogus",)
    assert caplog.messages == [
        "Unknown toolset 'bogus' ignored (MVSEP_TOOLSETS takes catalog, separation, jobs, studio, results, account, "
        "site, quality, auth or 'all'); starting with catalog, quality."
    ]
    only_unknown = load_settings({}, env_for(tmp_path, MVSEP_TOOLSETS="bogus"))
    assert only_unknown.toolsets == DEFAULT_TOOLSETS and only_unknown.ignored_toolsets == ("bogus",)


def test_database_url_is_a_secret_and_sqlite_stays_the_default(tmp_path: Path) -> None:
    assert load_settings({}, env_for(tmp_path)).database_url is None  # SQLite in the data dir
    url = "postgresql://mvsep:Pg-Secret-4711@db.internal:5432/mvsep"
    settings = load_settings({}, env_for(tmp_path, MVSEP_DATABASE_URL=url, MVSEP_LEASE_TTL="12.5"))
    assert settings.database_url is not None and settings.database_url.get_secret_value() == url
    assert settings.lease_ttl == 12.5
    assert "Pg-Secret" not in repr(settings) and "Pg-Secret" not in str(settings.model_dump())
    (tmp_path / "config.toml").write_text(f'database_url = "{url}"\n', encoding="utf-8")
    assert load_settings({}, env_for(tmp_path)).database_url is not None


@pytest.mark.parametrize(("name", "value", "message"), [
    ("MVSEP_DATABASE_URL", "mysql://root:Pg-Secret-4711@db/x", "postgresql://"),
    ("MVSEP_DATABASE_URL", "Pg-Secret-4711", "no scheme"),
    ("MVSEP_LEASE_TTL", "soon", "number of seconds"),
    ("MVSEP_LEASE_TTL", "0", "more than 0"),
])
def test_bad_database_settings_never_echo_the_url(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load_settings({}, env_for(tmp_path, **{name: value}))
    assert "Pg-Secret" not in str(raised.value)
