"""Settings from command-line flags, the environment and an optional config file, in that order of precedence.

Environment variables (all optional):

    MVSEP_API_TOKEN      the MVSep API token (or run `mvsep-mcp login`, which stores it owner-only)
    MVSEP_BASE_URL       the API's base URL (regional hosts, or the local sandbox)
    MVSEP_OUTPUT_DIR     where stems are written (default: <your Music folder>/MVSep)
    MVSEP_TOOLSETS       comma-separated toolsets to enable, or "all" (default: catalog,separation,jobs)
    MVSEP_NAME_TEMPLATE  file naming template (default: "{song}/{title} ({stem}).{ext}")
    MVSEP_OUTPUT_FORMAT  default output format: mp3, wav, flac, m4a, wav32, flac24 (default: flac)
    MVSEP_DATA_DIR       where the job journal and catalogue cache live (default: the platform's data dir)
    MVSEP_CONFIG         a TOML config file (default: <platform config dir>/config.toml)
    MVSEP_POLL_INTERVAL  seconds between status polls (default 5; the sandbox demo uses less)
    MVSEP_CREDENTIALS    where `mvsep-mcp login` stores the token (default: <platform config dir>/credentials.json)
    MVSEP_DOWNLOAD_HOSTS comma-separated mirrors result files may come from besides the base URL's site
                         (host names, or *.example.org for a domain and its subdomains)
    MVSEP_REHASH_REUSED  1: before reusing earlier stems, check their SHA-256 (default: size and modification time)
    MVSEP_AUTO_APPROVE_CREDITS  a request estimated at most this many credits spends them without asking (default 0:
                         always ask, or need confirm_credits; for unattended automation)
    MVSEP_DAW_READY      0: leave WAV/FLAC stems' lengths as MVSep made them (default 1: the input's exact length)
    MVSEP_STATUS_RATE    status requests per account per minute (default 30: well under MVSep's documented 60-120;
                         raise it only for a local stand-in such as the sandbox)
    MVSEP_RESULTS_AS     how results show saved files: both (default: paths, and resource links a host can read or
                         attach), paths (paths only), resources (resource links only, no server paths)
    MVSEP_DATABASE_URL   postgresql://user:password@host:5432/db: keep the job journal in PostgreSQL, shared by
                         every replica of a hosted server (needs the [postgres] extra; default: SQLite in the data
                         dir). Held as a secret: logs and errors show it with the password as ***
    MVSEP_LEASE_TTL      seconds after which a silent server's claim on an account's jobs lapses and another
                         process or replica takes them over (default 30)
    MVSEP_AUTH_*, MVSEP_HOSTED, MVSEP_PUBLIC_URL, MVSEP_SERVER_KEY, …  a hosted server for many users: see
                         mvsep_mcp.hosted.settings (in hosted mode the token settings and credentials file are unused)

A value that is literally ``${user_config.…}`` — what an MCP bundle passes for a field the user left blank — counts as
unset. The token is held as a ``SecretStr`` and never appears in a repr, log line or error.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from mvsep_mcp import policy
from mvsep_mcp.errors import UserError
from mvsep_mcp.hosted.settings import HostedSettingError, HostedSettings, load_hosted
from mvsep_mcp.media.naming import DEFAULT_TEMPLATE
from mvsep_mcp.mvsep.formats import DEFAULT_FORMAT, FORMAT_NAMES

APP_NAME = "mvsep-mcp"

DEFAULT_TOOLSETS = ("catalog", "separation", "jobs")
ALL_TOOLSETS = ("catalog", "separation", "jobs", "studio", "results", "account", "site", "quality", "auth")
ResultsAs = Literal["both", "paths", "resources"]
RESULTS_AS: tuple[str, ...] = get_args(ResultsAs)
OPT_IN_TOOLSETS = ("auth",)  # never part of "all": a password should not pass through the model unless asked for


ENV_PREFIX = "MVSEP_"


class ConfigError(UserError):
    """A setting has a value we cannot use; the message names the setting and the fix."""


def is_unset(value: str | None) -> bool:
    """True for None, blank, and an MCP bundle's unfilled ``${user_config.…}`` placeholder."""
    if value is None:
        return True
    text = value.strip()
    return not text or (text.startswith("${") and text.endswith("}"))


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_output_dir() -> Path:
    return Path(platformdirs.user_music_dir()) / "MVSep"


def credentials_path() -> Path:
    return config_dir() / "credentials.json"


class Settings(BaseModel):
    """Everything the server needs to know, resolved once at start-up."""

    model_config = ConfigDict(frozen=True)

    token: SecretStr | None = None
    base_url: str = policy.DEFAULT_BASE_URL
    output_dir: Path
    data_dir: Path
    toolsets: tuple[str, ...] = DEFAULT_TOOLSETS
    name_template: str = DEFAULT_TEMPLATE
    output_format: str = DEFAULT_FORMAT
    poll_interval: float = policy.POLL_INTERVAL_S
    token_source: str = "none"  # "environment", "flag", "config file", "credentials file" or "none": never the value
    credentials_file: Path = Field(default_factory=credentials_path)
    download_hosts: tuple[str, ...] = ()  # mirrors files may come from besides the base URL's site
    status_rate: int = policy.ACCOUNT_STATUS_REQUESTS_PER_MINUTE  # status requests per account per minute
    rehash_reused: bool = False  # check reused stems by their SHA-256, not only size and modification time
    daw_ready: bool = policy.DAW_READY_DEFAULT  # WAV/FLAC stems get the input's exact length (lossy ones: recorded)
    auto_approve_credits: int = 0  # a request estimated at most this many credits spends them without asking
    results_as: ResultsAs = "both"  # saved files in results: paths, resource links, or both
    ignored_toolsets: tuple[str, ...] = ()  # unknown names given in MVSEP_TOOLSETS (warned about, reported by doctor)
    database_url: SecretStr | None = None  # postgresql://…: the shared journal (None: SQLite at journal_path)
    lease_ttl: float = policy.LEASE_TTL_S  # a silent holder's claim on an account's jobs lapses after this long
    hosted: HostedSettings = HostedSettings()  # authentication, and each user with their own MVSep account and folder

    @property
    def has_token(self) -> bool:
        return self.token is not None

    @property
    def journal_path(self) -> Path:
        return self.data_dir / "journal.sqlite3"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"The config file {path} could not be read ({exc.__class__.__name__}): fix or remove it."
        ) from exc
    return data


def read_stored_token(path: Path | None = None) -> str | None:
    """The token stored by `mvsep-mcp login`, if any."""
    path = path or credentials_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    token = data.get("api_token") if isinstance(data, dict) else None
    return None if not isinstance(token, str) or is_unset(token) else token.strip()


def store_token(token: str, path: Path | None = None) -> Path:
    """Write the token to the credentials file, readable by its owner only. Returns the path.

    On POSIX (Linux, macOS) that is the file's mode, 0600, set before a byte is written. Windows has no such bits
    (``chmod`` there only clears "read-only"): the file inherits the ACL of the user's profile folder, which the
    default location (``%LOCALAPPDATA%``) restricts to the user."""
    path = path or credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"api_token": token}, fh)
    os.chmod(tmp, stat.S_IRUSR | stat.S_IWUSR)
    os.replace(tmp, path)
    return path


def split_toolsets(value: str | list[str] | tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(known, unknown)`` toolset names from a comma-separated value; ``all`` expands (opt-in ones excluded)."""
    items = value.split(",") if isinstance(value, str) else list(value)
    names = [item.strip().lower() for item in items if item.strip()]
    known: list[str] = []
    unknown: list[str] = []
    for name in names:
        if name == "all":
            known.extend(t for t in ALL_TOOLSETS if t not in OPT_IN_TOOLSETS)
        elif name in ALL_TOOLSETS:
            known.append(name)
        else:
            unknown.append(name)
    return tuple(dict.fromkeys(known)), tuple(dict.fromkeys(unknown))


def unknown_toolsets_warning(unknown: tuple[str, ...], started: tuple[str, ...]) -> str:
    names = ", ".join(repr(name) for name in unknown)
    return (
        f"Unknown toolset {names} ignored (MVSEP_TOOLSETS takes {', '.join(ALL_TOOLSETS)} or 'all'); "
        f"starting with {', '.join(started)}."
    )


def parse_toolsets(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The known toolsets in ``value`` (the defaults when none is known); unknown names are a warning, not an error:
    a server that refused to start would show in the host only as "server disconnected"."""
    known, unknown = split_toolsets(value)
    result = known or DEFAULT_TOOLSETS
    if unknown:
        logging.getLogger(__name__).warning("%s", unknown_toolsets_warning(unknown, result))
    return result


def _pick(flags: Mapping[str, Any], env: Mapping[str, str], file: Mapping[str, Any], key: str) -> tuple[Any, str]:
    """The first set value for ``key`` from flags, environment, config file, with where it came from."""
    flag = flags.get(key)
    if flag is not None and not (isinstance(flag, str) and is_unset(flag)):
        return flag, "flag"
    env_value = env.get(ENV_PREFIX + key.upper())
    if not is_unset(env_value):
        return env_value, "environment"
    file_value = file.get(key)
    if file_value is not None and not (isinstance(file_value, str) and is_unset(file_value)):
        return file_value, "config file"
    return None, "none"


def load_settings(flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Resolve settings: flags, then environment (``MVSEP_*``), then the config file, then defaults."""
    flags = dict(flags or {})
    env = dict(os.environ if env is None else env)
    config_path_value, _ = _pick(flags, env, {}, "config")
    config_path = Path(str(config_path_value)).expanduser() if config_path_value else config_dir() / "config.toml"
    file = _read_config_file(config_path)

    try:
        hosted = load_hosted(lambda key: _pick(flags, env, file, key)[0])
    except HostedSettingError as exc:
        raise ConfigError(exc.message) from None
    credentials_value, _ = _pick(flags, env, file, "credentials")
    credentials_file = Path(str(credentials_value)).expanduser() if credentials_value else credentials_path()
    token_value, token_source = _pick(flags, env, file, "api_token")
    if hosted.enabled:  # each user links their own account: no server-wide token, no credentials file
        if token_value is not None:
            logging.getLogger(__name__).warning("MVSEP_API_TOKEN is ignored in hosted mode: each user links their own")
        token_value = None
    elif token_value is None:
        stored = read_stored_token(credentials_file)
        if stored:
            token_value, token_source = stored, "credentials file"
    token = SecretStr(str(token_value).strip()) if token_value else None

    base_url, _ = _pick(flags, env, file, "base_url")
    base_url = str(base_url or policy.DEFAULT_BASE_URL).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"MVSEP_BASE_URL must start with http:// or https:// (got {base_url!r}).")

    output_dir, _ = _pick(flags, env, file, "output_dir")
    data_dir, _ = _pick(flags, env, file, "data_dir")
    toolsets, _ = _pick(flags, env, file, "toolsets")
    template, _ = _pick(flags, env, file, "name_template")
    output_format, _ = _pick(flags, env, file, "output_format")
    poll, _ = _pick(flags, env, file, "poll_interval")
    hosts, _ = _pick(flags, env, file, "download_hosts")
    rate, _ = _pick(flags, env, file, "status_rate")
    rehash, _ = _pick(flags, env, file, "rehash_reused")
    daw_ready, _ = _pick(flags, env, file, "daw_ready")
    auto_approve, _ = _pick(flags, env, file, "auto_approve_credits")
    results_as, _ = _pick(flags, env, file, "results_as")
    database_url, _ = _pick(flags, env, file, "database_url")
    lease_ttl, _ = _pick(flags, env, file, "lease_ttl")

    fmt = str(output_format or DEFAULT_FORMAT).lower()
    if fmt not in FORMAT_NAMES:
        raise ConfigError(f"MVSEP_OUTPUT_FORMAT {fmt!r} is not one of {', '.join(FORMAT_NAMES)}.")
    try:
        poll_interval = float(poll) if poll is not None else policy.POLL_INTERVAL_S
    except ValueError as exc:
        raise ConfigError(f"MVSEP_POLL_INTERVAL must be a number of seconds (got {poll!r}).") from exc

    if hosted.enabled and toolsets and "auth" in split_toolsets(toolsets)[0]:
        logging.getLogger(__name__).warning("the auth toolset (login through the model) is off in hosted mode")
    return Settings(
        hosted=hosted,
        token=token,
        token_source=token_source if token else "none",
        base_url=base_url,
        output_dir=Path(str(output_dir)).expanduser() if output_dir else default_output_dir(),
        data_dir=Path(str(data_dir)).expanduser() if data_dir else default_data_dir(),
        toolsets=_without_auth(parse_toolsets(toolsets) if toolsets else DEFAULT_TOOLSETS, hosted.enabled),
        ignored_toolsets=split_toolsets(toolsets)[1] if toolsets else (),
        name_template=str(template) if template else DEFAULT_TEMPLATE,
        output_format=fmt,
        poll_interval=max(0.05, poll_interval),
        credentials_file=credentials_file,
        download_hosts=_listed(hosts),
        status_rate=_positive_int(rate, "MVSEP_STATUS_RATE", policy.ACCOUNT_STATUS_REQUESTS_PER_MINUTE),
        rehash_reused=_switch(rehash, False),
        daw_ready=_switch(daw_ready, policy.DAW_READY_DEFAULT),
        auto_approve_credits=_count(auto_approve, "MVSEP_AUTO_APPROVE_CREDITS"),
        results_as="resources" if hosted.enabled else _results_as(results_as),  # hosted: never a server path
        database_url=_database_url(database_url),
        lease_ttl=_positive_seconds(lease_ttl, "MVSEP_LEASE_TTL", policy.LEASE_TTL_S),
    )


def _without_auth(toolsets: tuple[str, ...], hosted: bool) -> tuple[str, ...]:
    """In hosted mode the ``auth`` toolset (a password through the model, a server-wide token) is never served."""
    return tuple(t for t in toolsets if t != "auth") or DEFAULT_TOOLSETS if hosted else toolsets


def _count(value: Any, name: str) -> int:
    if value is None:
        return 0
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of credits (got {value!r}).") from None
    if number < 0:
        raise ConfigError(f"{name} cannot be negative (got {number}).")
    return number


def _switch(value: Any, default: bool) -> bool:
    """1/true/yes/on or 0/false/no/off (any case), from a flag, the environment or the config file."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _database_url(value: Any) -> SecretStr | None:
    """A ``postgresql://`` URL as a secret (it may carry a password: never echoed, not even in this error)."""
    if value is None:
        return None
    url = str(value).strip()
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ("postgresql", "postgres"):
        shown = f"the scheme {scheme!r}" if scheme else "no scheme"
        raise ConfigError(
            f"MVSEP_DATABASE_URL must be a postgresql://user:password@host:5432/database URL (it has {shown}); "
            f"unset it to keep the job journal in SQLite."
        )
    return SecretStr(url)


def _positive_seconds(value: Any, name: str, default: float) -> float:
    if value is None:
        return default
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds (got {value!r}).") from None
    if not number > 0:
        raise ConfigError(f"{name} must be more than 0 seconds (got {number}).")
    return number


def _positive_int(value: Any, name: str, default: int) -> int:
    if value is None:
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number (got {value!r}).") from None
    if number < 1:
        raise ConfigError(f"{name} must be at least 1 (got {number}).")
    return number


def _results_as(value: Any) -> ResultsAs:
    if value is None:
        return "both"
    choice = str(value).strip().lower()
    if choice not in RESULTS_AS:
        raise ConfigError(f"MVSEP_RESULTS_AS must be one of {', '.join(RESULTS_AS)} (got {value!r}).")
    return choice  # type: ignore[return-value]


def _listed(value: Any) -> tuple[str, ...]:
    """A comma-separated string (environment, flag) or a list (config file) as a tuple of stripped items."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return tuple(str(item).strip() for item in items if str(item).strip())
