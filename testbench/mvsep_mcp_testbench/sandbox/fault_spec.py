"""The compact fault text of ``mvsep-mcp sandbox --faults SPEC`` (and ``MVSEP_SANDBOX_FAULTS``, and ``state.inject``).

    SPEC   = RULE {"," RULE}
    RULE   = TARGET ":" KIND ["=" VALUE] {":" OPTION}
    OPTION = count=N|all  after=N  method=GET|POST  job=N  hash=H  stem=LABEL  body=B  side=request|response  handled

Targets: ``create``, ``get`` (the status URL), ``get-remote``, ``cancel``, ``user``, ``algorithms``, ``history``,
``login``, ``api`` (every ``/api/`` path), ``files`` or ``download`` (stem files, ``/storage/processed/*``), ``input``
(``/storage/temp/*``), ``storage``, ``any``, or an ``fnmatch`` path pattern starting with ``/``.

Kinds and their values (defaults in brackets): ``status=CODE`` [503], ``rate_limit=SECONDS|none`` [2],
``slow=SECONDS`` [1], ``reset_mid=FRACTION`` [0.5], ``drop``, ``truncated=FRACTION`` [0.5], ``malformed``,
``unknown_status=TEXT`` [paused], ``fail_job=MESSAGE`` [Error while processing the file: out of GPU memory],
``not_found=404|410|...|false|true`` [404], ``vanish``, ``wrong_body=json|html`` [json], ``foreign_host=HOST``
[``localhost`` for ``127.0.0.1`` and the other way round; ``[::1]`` is written in brackets].

Every rule fires once unless ``count=N`` or ``count=all``; ``after=N`` lets N would-be firings pass first. ``job=N`` is
the Nth job this sandbox creates (from 1). Values are URL-decoded (``%2C`` for a comma, ``%3A`` for a colon).

Examples::

    get:status=502:count=2                      the next two status polls get nginx's 502 page
    create:status=500:body=json:handled         a create that creates (and charges), answered {"message":"Server Error"}
    create:reset_mid=0.3                        the upload is reset after 30 % of its bytes; no job
    download:reset_mid=0.5:count=all            every stem download stops after half its bytes (a Range retry too)
    get:unknown_status=queued_v2:count=3        three polls report "queued_v2"
    create:fail_job=Out of memory:job=2         the second job fails with that message
    get:not_found:job=1:count=all               job 1's status URL answers 404 for good
    files:vanish:stem=bass                      the bass file answers 404 once
    files:wrong_body=html:count=all             every stem URL serves an HTML "not yours" page with HTTP 200
    files:foreign_host:count=all                results point their files at localhost instead of 127.0.0.1
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from mvsep_mcp_testbench.sandbox.faults import (
    BODY_CHOICES,
    DEFAULT_FAIL_MESSAGE,
    DEFAULT_UNKNOWN_STATUS,
    FAULT_KINDS,
    SIDES,
    FaultRule,
)

FAULTS_ENV = "MVSEP_SANDBOX_FAULTS"
FILES_PATTERN = "/storage/processed/*"
TARGETS = {
    "create": "/api/separation/create",
    "get": "/api/separation/get",
    "get-remote": "/api/separation/get-remote",
    "cancel": "/api/separation/cancel",
    "user": "/api/app/user",
    "algorithms": "/api/app/algorithms",
    "history": "/api/app/separation_history",
    "login": "/api/app/login",
    "api": "/api/*",
    "files": FILES_PATTERN,
    "download": FILES_PATTERN,
    "input": "/storage/temp/*",
    "storage": "/storage/*",
    "any": "*",
}
OPTIONS = ("count", "after", "method", "job", "hash", "stem", "body", "side", "handled")


class FaultSpecError(ValueError):
    """A ``--faults`` text that cannot be read; the message names the part and what is allowed."""


def parse_faults(spec: str | None) -> list[FaultRule]:
    """The rules of a fault text, in order (empty or None: no rules)."""
    rules = []
    for text in _split(spec or "", ","):
        if text.strip():
            rules.append(parse_rule(text.strip()))
    return rules


def parse_rule(text: str) -> FaultRule:
    parts = [p.strip() for p in _split(text, ":")]
    if len(parts) < 2 or not parts[1]:
        raise FaultSpecError(f"{text!r}: write TARGET:KIND[=VALUE][:OPTION...], e.g. get:status=502:count=2")
    target, (kind, value) = parts[0], _pair(parts[1])
    if kind not in FAULT_KINDS:
        raise FaultSpecError(f"{text!r}: unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}")
    fields: dict[str, Any] = {"kind": kind, "path_pattern": _target(text, target, kind)}
    try:
        fields.update(_KIND_VALUES[kind](value))
        for option in parts[2:]:
            fields.update(_option(option))
        return FaultRule(**fields)
    except (ValueError, TypeError) as exc:
        raise FaultSpecError(f"{text!r}: {exc}") from None


def format_rule(rule: FaultRule) -> str:
    """The rule as fault text (a round trip of ``parse_rule`` for rules it can express)."""
    target = next((name for name, path in TARGETS.items() if path == rule.path_pattern), rule.path_pattern)
    formatter = _KIND_FORMAT.get(rule.kind)
    value = formatter(rule) if formatter is not None else None
    parts = [target, rule.kind if value is None else f"{rule.kind}={value}"]
    if rule.count != 1:
        parts.append("count=all" if rule.count is None else f"count={rule.count}")
    for name, current, default in (("after", rule.after, 0), ("method", rule.method, None),
                                   ("job", rule.job_number, None), ("hash", rule.job_hash, None),
                                   ("stem", rule.stem, None), ("side", rule.side, "auto")):
        if current != default:
            parts.append(f"{name}={current}")
    if rule.body is not None and not (rule.kind == "not_found" and rule.status == 200) and rule.kind != "wrong_body":
        parts.append(f"body={rule.body}")
    if rule.handled:
        parts.append("handled")
    return ":".join(parts)


# --- pieces ---------------------------------------------------------------------------------------------------------


def _split(text: str, separator: str) -> list[str]:
    """Split on the separator outside square brackets (so ``[::1]`` stays whole)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _pair(text: str) -> tuple[str, str | None]:
    name, sep, value = text.partition("=")
    return name.strip().lower(), unquote(value.strip()) if sep else None


def _target(text: str, target: str, kind: str) -> str:
    if target.startswith("/") or target == "*":
        return target
    path = TARGETS.get(target.lower())
    if path is None:
        raise FaultSpecError(f"{text!r}: unknown target {target!r}; one of {', '.join(TARGETS)}, or a /path pattern")
    if kind == "foreign_host":  # it moves the file URLs of results: its pattern is over those files
        if target.lower() == "get":
            return FILES_PATTERN
        if not path.startswith("/storage/") and path != "*":
            raise FaultSpecError(f"{text!r}: foreign_host moves the file URLs of results: target files (or a "
                                 "/storage/ pattern)")
    return path


def _option(text: str) -> dict[str, Any]:
    name, value = _pair(text)
    if name == "handled":
        return {"handled": True}
    if name not in OPTIONS:
        raise ValueError(f"unknown option {name!r}; one of {', '.join(OPTIONS)}")
    if value is None or value == "":
        raise ValueError(f"option {name} needs a value ({name}=...)")
    if name == "count":
        return {"count": None if value.lower() in ("all", "*", "always") else _int(value, "count")}
    if name == "after":
        return {"after": _int(value, "after")}
    if name == "job":
        return {"job_number": _int(value, "job")}
    if name == "hash":
        return {"job_hash": value}
    if name == "method":
        return {"method": value.upper()}
    if name == "side":
        if value not in SIDES:
            raise ValueError(f"side is one of {', '.join(SIDES)}")
        return {"side": value}
    if name == "body":
        return {"body": value.lower()}
    return {"stem": value}


def _escape(text: str | None) -> str | None:
    return None if text is None else text.replace("%", "%25").replace(":", "%3A").replace(",", "%2C")


def _int(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None
    if number < 0:
        raise ValueError(f"{name} must not be negative")
    return number


def _float(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {value!r}") from None


def _status(value: str | None) -> dict[str, Any]:
    return {} if value is None else {"status": _int(value, "status")}


def _rate_limit(value: str | None) -> dict[str, Any]:
    if value is None:
        return {}
    return {"retry_after": None if value.lower() == "none" else _int(value, "rate_limit")}


def _fraction(value: str | None) -> dict[str, Any]:
    return {} if value is None else {"fraction": _float(value, "the fraction")}


def _no_value(kind: str) -> Callable[[str | None], dict[str, Any]]:
    def parse(value: str | None) -> dict[str, Any]:
        if value is not None:
            raise ValueError(f"{kind} takes no value")
        return {}

    return parse


def _not_found(value: str | None) -> dict[str, Any]:
    if value is None:
        return {"status": 404}
    if value.lower() in ("false", "true"):
        return {"status": 200, "body": value.lower()}
    return {"status": _int(value, "not_found")}


def _wrong_body(value: str | None) -> dict[str, Any]:
    if value is not None and value.lower() not in BODY_CHOICES["wrong_body"]:
        raise ValueError(f"wrong_body is one of {', '.join(BODY_CHOICES['wrong_body'])}")
    return {"body": (value or "json").lower()}


_KIND_VALUES: dict[str, Callable[[str | None], dict[str, Any]]] = {
    "status": _status,
    "rate_limit": _rate_limit,
    "slow": lambda v: {} if v is None else {"delay_s": _float(v, "slow")},
    "reset_mid": _fraction,
    "drop": _no_value("drop"),
    "truncated": _fraction,
    "malformed": _no_value("malformed"),
    "unknown_status": lambda v: {"text": v or DEFAULT_UNKNOWN_STATUS},
    "fail_job": lambda v: {"text": v or DEFAULT_FAIL_MESSAGE},
    "not_found": _not_found,
    "vanish": _no_value("vanish"),
    "wrong_body": _wrong_body,
    "foreign_host": lambda v: {} if not v else {"host": v},
}

_KIND_FORMAT: dict[str, Callable[[FaultRule], str | None]] = {
    "status": lambda r: str(r.status),
    "rate_limit": lambda r: "none" if r.retry_after is None else str(r.retry_after),
    "slow": lambda r: f"{r.delay_s:g}",
    "reset_mid": lambda r: f"{r.fraction:g}",
    "truncated": lambda r: f"{r.fraction:g}",
    "unknown_status": lambda r: _escape(r.text),
    "fail_job": lambda r: _escape(r.text),
    "not_found": lambda r: (r.body_or_default() if r.status == 200 else str(r.status)),
    "wrong_body": lambda r: r.body_or_default(),
    "foreign_host": lambda r: r.host,
}
