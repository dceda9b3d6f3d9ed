"""server.json, the entry for the official MCP Registry: valid against the registry's released schema (vendored in
``tests/ship/schemas``, pinned by its hash, never fetched), and in step with pyproject.toml, manifest.json, the
README's ``mcp-name:`` line (what the registry looks for on the PyPI page) and the settings the server really reads.

The bundle's ``fileSha256`` is a placeholder here: ``.ci/release.py build`` writes the packed bundle's hash into the
copy it publishes (checked in ``test_release.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mvsep_mcp.config import ALL_TOOLSETS, DEFAULT_TOOLSETS, load_settings
from mvsep_mcp.hosted.identity import TOKEN_HEADER
from mvsep_mcp.media.naming import DEFAULT_TEMPLATE
from mvsep_mcp.mvsep.formats import DEFAULT_FORMAT, FORMAT_NAMES

from tests.ship.external import RELEASE

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "server.schema.2025-12-11.json"
SCHEMA_SHA256 = "3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0"  # tests/ship/schemas/README.md
GITHUB = re.compile(r"^https://github\.com/([A-Za-z0-9-]+)/([A-Za-z0-9._-]+)$")
# a value for each variable that the server must take up, and where it shows in the settings
SAMPLES: dict[str, tuple[str, str]] = {
    "MVSEP_API_TOKEN": ("sample-token-123", "token"),
    "MVSEP_OUTPUT_DIR": ("{tmp}/stems", "output_dir"),
    "MVSEP_TOOLSETS": ("studio", "toolsets"),
    "MVSEP_OUTPUT_FORMAT": ("mp3", "output_format"),
    "MVSEP_NAME_TEMPLATE": ("{title} - {stem}.{ext}", "name_template"),
}


def server_json(path: Path = ROOT / "server.json") -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def schema_errors(entry: dict[str, Any]) -> list[str]:
    """Every way ``entry`` breaks the registry's schema (formats checked too), as ``path: message``."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(entry)]


def _package(entry: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [package for package in entry["packages"] if package["registryType"] == kind]
    assert len(found) == 1, f"server.json should list one {kind} package"
    return found[0]


def _project() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]  # type: ignore[no-any-return]


def _manifest() -> dict[str, Any]:
    return dict(json.loads((ROOT / "manifest.json").read_text(encoding="utf-8")))


def test_the_vendored_schema_is_the_pinned_release() -> None:
    assert hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["$id"] == SCHEMA_URL
    assert (SCHEMA_PATH.parent / "LICENSE.server-schema").read_text(encoding="utf-8").startswith("MIT License")


def test_server_json_is_valid_for_the_registry() -> None:
    entry = server_json()
    assert entry["$schema"] == SCHEMA_URL
    assert schema_errors(entry) == []


@pytest.mark.parametrize("break_it", [
    lambda e: e.update(description="x" * 101),
    lambda e: e.update(name="no-slash"),
    lambda e: _package(e, "pypi").update(version="latest"),
    lambda e: _package(e, "pypi").update(transport={"type": "carrier-pigeon"}),
], ids=["long description", "name without namespace", "version 'latest'", "unknown transport"])
def test_the_schema_refuses_what_the_registry_refuses(break_it: Any) -> None:
    """The validation is not vacuous: each of these breaks it."""
    entry = server_json()
    break_it(entry)
    assert schema_errors(entry)


def test_the_name_is_the_repositorys_and_the_readme_names_it() -> None:
    """GitHub OIDC publishes under ``io.github.<owner>``; the registry checks ``mcp-name: <name>`` on the PyPI page
    (the README), followed by whitespace, a tag or the end of an HTML comment."""
    entry, project, manifest = server_json(), _project(), _manifest()
    owner, repo = GITHUB.fullmatch(project["urls"]["Repository"]).groups()  # type: ignore[union-attr]
    assert entry["name"] == f"io.github.{owner}/{repo}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"mcp-name: {re.escape(entry['name'])}(?=\s|<|-->|$)", readme)
    assert entry["title"] == manifest["display_name"]
    assert entry["description"] == manifest["description"]
    assert entry["repository"] == {"url": project["urls"]["Repository"], "source": "github"}
    assert entry["websiteUrl"] == project["urls"]["Homepage"]


def test_the_pypi_package_is_this_distribution_over_stdio() -> None:
    entry, project = server_json(), _project()
    pypi = _package(entry, "pypi")
    assert pypi["identifier"] == project["name"]
    assert pypi["registryBaseUrl"] == "https://pypi.org"  # the only PyPI the official registry accepts
    assert pypi["runtimeHint"] == "uvx" and pypi["transport"] == {"type": "stdio"}
    assert "mvsep-mcp" in project["scripts"] and "packageArguments" not in pypi  # `mvsep-mcp` alone serves stdio


def test_the_bundle_package_is_the_release_asset() -> None:
    entry, project = server_json(), _project()
    bundle = _package(entry, "mcpb")
    assert bundle["identifier"] == RELEASE.bundle_url(project["urls"]["Repository"], project["version"])
    assert "mcp" in bundle["identifier"]  # the registry's rule for bundle URLs
    assert bundle["fileSha256"] == RELEASE.BUNDLE_PLACEHOLDER_SHA256  # the release writes the packed bundle's
    assert bundle["transport"] == {"type": "stdio"}


def test_the_variables_are_the_bundles_and_the_token_alone_is_secret() -> None:
    variables = _package(server_json(), "pypi")["environmentVariables"]
    names = [variable["name"] for variable in variables]
    assert names == list(_manifest()["server"]["mcp_config"]["env"])
    assert {v["name"] for v in variables if v.get("isSecret")} == {"MVSEP_API_TOKEN"}
    assert not any(v.get("isRequired") for v in variables)  # the server starts with none of them
    by_name = {variable["name"]: variable for variable in variables}
    assert by_name["MVSEP_OUTPUT_DIR"]["format"] == "filepath"
    assert by_name["MVSEP_OUTPUT_FORMAT"]["choices"] == list(FORMAT_NAMES)
    assert by_name["MVSEP_OUTPUT_FORMAT"]["default"] == DEFAULT_FORMAT
    assert by_name["MVSEP_TOOLSETS"]["default"] == ",".join(DEFAULT_TOOLSETS)
    assert all(name in by_name["MVSEP_TOOLSETS"]["description"] for name in ALL_TOOLSETS)
    assert by_name["MVSEP_NAME_TEMPLATE"]["default"] == DEFAULT_TEMPLATE


def test_the_server_reads_every_variable(tmp_path: Path) -> None:
    """Each variable, set as a host would set it, changes the settings the server starts with."""
    variables = [v["name"] for v in _package(server_json(), "pypi")["environmentVariables"]]
    assert sorted(variables) == sorted(SAMPLES), "give each new variable a sample value here"
    base = {"MVSEP_CONFIG": str(tmp_path / "absent.toml"), "MVSEP_CREDENTIALS": str(tmp_path / "absent.json"),
            "MVSEP_DATA_DIR": str(tmp_path / "data")}
    before = load_settings({}, base)
    for name in variables:
        sample, field = SAMPLES[name]
        value = sample.replace("{tmp}", str(tmp_path))
        taken = getattr(load_settings({}, {**base, name: value}), field)
        assert taken != getattr(before, field), name
        if hasattr(taken, "get_secret_value"):
            taken = taken.get_secret_value()
        elif isinstance(taken, tuple):
            taken = ",".join(taken)
        assert taken == (Path(value) if isinstance(taken, Path) else value), name


def test_the_remote_is_the_hosted_server_and_optional() -> None:
    """There is no public endpoint: the remote stands for a server someone hosts (README, Hosting it)."""
    (remote,) = server_json()["remotes"]
    assert remote["type"] == "streamable-http" and remote["url"] == "https://{host}/mcp"
    assert remote["variables"]["host"]["description"].startswith("Optional")
    headers = {header["name"]: header for header in remote["headers"]}
    assert set(headers) == {"Authorization", "X-MVSep-Token"}
    assert headers["X-MVSep-Token"]["name"].lower() == TOKEN_HEADER
    assert headers["Authorization"]["isSecret"] and headers["X-MVSep-Token"]["isSecret"]
    assert not headers["X-MVSep-Token"].get("isRequired")
