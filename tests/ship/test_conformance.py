"""The official MCP conformance suite (pinned, on Node 22) against ``mvsep-mcp serve --transport http``.

``conformance server --suite all`` runs every server scenario, pending ones included. The scenarios that call the
suite's own fixture server's tools, prompts and resources (``test_*``) are listed, each with its reason, in
``conformance-expected-failures.yml``; every other scenario must pass, and a listed one that passes fails the run
as a stale entry (the suite's own exit code says both).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from tests.ship import external

EXPECTED_FAILURES = Path(__file__).with_name("conformance-expected-failures.yml")
FIXTURE_REASON = re.compile(r"# .*the fixture's (tool|prompt|resource|template) \S*(test_|test://|json_schema_2020_12)")


def test_each_expected_failure_names_the_fixture_it_needs() -> None:
    """One line a scenario: its name and a reason naming the fixture server's tool, prompt or resource it calls."""
    listed = yaml.safe_load(EXPECTED_FAILURES.read_text(encoding="utf-8"))
    entries = [line for line in EXPECTED_FAILURES.read_text(encoding="utf-8").splitlines() if line.startswith("  - ")]
    assert set(listed) == {"server"} and len(entries) == len(listed["server"])
    for line in entries:
        assert FIXTURE_REASON.search(line), line


def test_the_conformance_suite_passes(tmp_path: Path, http_server: str) -> None:
    npm_cache = os.environ.get("npm_config_cache") or str(Path.home() / ".npm")
    done = external.run_npx(
        [external.CONFORMANCE], "conformance", "server", "--url", http_server, "--suite", "all",
        "--expected-failures", str(EXPECTED_FAILURES), "-o", str(tmp_path / "results"),
        cwd=tmp_path, env={"npm_config_cache": npm_cache},
    )
    output = done.stdout + external.without_npm_noise(done.stderr)
    print(output[output.find("=== SUMMARY ===") :] if "=== SUMMARY ===" in output else output)
    assert done.returncode == 0, output[-6000:]
