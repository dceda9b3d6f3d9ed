"""One version: declared in pyproject.toml, read at run time from the installed distribution (``serverInfo``,
``--version``), and copied by ``.ci/release.py set-version`` into manifest.json, server.json and the README's wheel
names. Any copy that differs fails here (and ``.ci/release.py check-version`` fails the release)."""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

import mvsep_mcp
from mcp.client.client import Client
from mvsep_mcp.app import create_server
from mvsep_mcp.config import load_settings

from tests.ship.external import RELEASE

ROOT = Path(__file__).resolve().parents[2]
COPIES = ("pyproject.toml", "manifest.json", "server.json", "README.md")


def test_every_copy_is_pyprojects_version() -> None:
    assert RELEASE.differences(ROOT) == [], "run .ci/release.py set-version <version> (or check-version to see)"
    assert set(RELEASE.versions(ROOT)) >= {"manifest.json", "server.json version", "server.json pypi package",
                                           "server.json mcpb package", "server.json mcpb URL",
                                           "README.md wheel name 1"}


def test_the_server_reports_the_installed_version(tmp_path: Path) -> None:
    """``serverInfo.version`` and ``--version`` are the installed distribution's (pip install -e . after a change)."""
    installed = importlib.metadata.version(mvsep_mcp.DISTRIBUTION)
    assert installed == RELEASE.version(ROOT), "the installed metadata is stale: pip install -e '.[test]' again"
    assert mvsep_mcp.__version__ == installed


async def test_server_info_carries_the_version(tmp_path: Path) -> None:
    env = {"MVSEP_DATA_DIR": str(tmp_path / "data"), "MVSEP_OUTPUT_DIR": str(tmp_path / "out"),
           "MVSEP_CONFIG": str(tmp_path / "absent.toml"), "MVSEP_CREDENTIALS": str(tmp_path / "absent.json")}
    for mode in ("legacy", "auto"):
        async with Client(create_server(load_settings({}, env)), mode=mode) as client:
            assert client.server_info is not None, mode
            assert client.server_info.version == RELEASE.version(ROOT), mode


def test_set_version_writes_every_copy_and_check_version_sees_a_stray_one(tmp_path: Path) -> None:
    for name in COPIES:
        shutil.copy2(ROOT / name, tmp_path / name)
    RELEASE.set_version("9.8.7rc1", tmp_path)
    assert RELEASE.differences(tmp_path) == []
    assert set(RELEASE.versions(tmp_path).values()) >= {"9.8.7rc1"}
    pyproject = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    assert pyproject.replace('version = "9.8.7rc1"', 'version = "0"') == \
        (ROOT / "pyproject.toml").read_text(encoding="utf-8").replace(f'version = "{RELEASE.version(ROOT)}"',
                                                                      'version = "0"')  # nothing else touched
    assert RELEASE.differences(tmp_path, tag="refs/tags/v9.8.7rc1") == []
    assert RELEASE.differences(tmp_path, tag="v9.8.8") == ["the tag 'v9.8.8' is not v9.8.7rc1 (pyproject.toml's "
                                                           "version)"]
    manifest = tmp_path / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"9.8.7rc1"', '"9.8.6"'), encoding="utf-8")
    assert RELEASE.differences(tmp_path) == ["manifest.json has '9.8.6', not '9.8.7rc1'"]
