"""SECURITY.md stays true: every limit in its table is the value the server uses (a policy constant, or the default
of a hosted setting), and every hosted-hardening limit of policy.py is in the table."""

from __future__ import annotations

import re
from pathlib import Path

from mvsep_mcp import policy
from mvsep_mcp.hosted.settings import HostedSettings

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| `(\w+)` \| (\d+) \| (.+) \|$", re.MULTILINE)
SETTINGS = {"MVSEP_SESSIONS_PER_USER": "sessions_per_user", "MVSEP_CALLS_PER_MINUTE": "calls_per_minute",
            "MVSEP_USER_QUOTA_MB": "quota_mb"}


def test_every_limit_in_security_md_is_the_one_in_force() -> None:
    rows = ROW.findall((ROOT / "SECURITY.md").read_text(encoding="utf-8"))
    assert len(rows) >= 15
    defaults = HostedSettings()
    for name, value, _what in rows:
        actual = getattr(defaults, SETTINGS[name]) if name in SETTINGS else getattr(policy, name)
        assert int(actual) == int(value), f"SECURITY.md says {name} is {value}, the server uses {actual}"


def test_every_hardening_limit_is_listed() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    source = (ROOT / "server" / "mvsep_mcp" / "policy.py").read_text(encoding="utf-8")
    section = source.split("# --- hosted hardening", 1)[1].split("\n# --- ", 1)[0]
    names = re.findall(r"^([A-Z_]+) = ", section, re.MULTILINE)
    assert names and all(f"`{name}`" in text for name in names), [n for n in names if f"`{n}`" not in text]
