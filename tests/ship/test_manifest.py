"""manifest.json (an MCP Bundle manifest, v0.4, server type "uv") in step with pyproject.toml and the server.

The ``tools`` and ``prompts`` lists must equal what the server lists with every toolset on: a tool's manifest
description is the first sentence of its MCP description; a prompt's ``text`` is the prompt's text
(``mvsep_mcp_tools.prompts.TEXTS``) with ``${arguments.<name>}`` for each argument but ``model``: the text for a
host to fill in leaves the model to the assistant (the server checks a model it is given and names it). After
changing tools or prompts, regenerate both lists with
``UPDATE_MANIFEST=1 .venv/bin/python -m pytest tests/ship/test_manifest.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from mcp.client.client import Client
from mvsep_mcp.app import create_server
from mvsep_mcp.config import ALL_TOOLSETS, load_settings
from mvsep_mcp_tools.prompts import TEXTS

ROOT = Path(__file__).resolve().parents[2]
MANIFEST_PATH = ROOT / "manifest.json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|$)")


def manifest() -> dict[str, Any]:
    return dict(json.loads(MANIFEST_PATH.read_text(encoding="utf-8")))


def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]  # type: ignore[no-any-return]


def first_sentence(description: str) -> str:
    text = " ".join(description.split())
    found = FIRST_SENTENCE.match(text)
    return found.group(1) if found else text


async def server_lists(tmp_path: Path) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """The manifest's ``tools`` and ``prompts`` as the server gives them, every toolset on (``auth`` too)."""
    env = {
        "MVSEP_BASE_URL": "http://127.0.0.1:9/api",
        "MVSEP_OUTPUT_DIR": str(tmp_path / "out"),
        "MVSEP_DATA_DIR": str(tmp_path / "data"),
        "MVSEP_TOOLSETS": ",".join(ALL_TOOLSETS),
        "MVSEP_CONFIG": str(tmp_path / "absent.toml"),
        "MVSEP_CREDENTIALS": str(tmp_path / "absent.json"),
    }
    async with Client(create_server(load_settings({}, env)), mode="legacy") as client:
        listed = await client.list_tools()
        tools = [{"name": t.name, "description": first_sentence(t.description or "")} for t in listed.tools]
        prompts: list[dict[str, Any]] = []
        for prompt in (await client.list_prompts()).prompts:
            names = [argument.name for argument in prompt.arguments or []]
            text = TEXTS[prompt.name](**{name: f"${{arguments.{name}}}" for name in names if name != "model"})
            prompts.append({"name": prompt.name, "description": prompt.description or "", "arguments": names,
                            "text": text})
    return tools, prompts


async def test_tools_and_prompts_are_what_the_server_lists(tmp_path: Path) -> None:
    tools, prompts = await server_lists(tmp_path)
    data = manifest()
    if os.environ.get("UPDATE_MANIFEST") == "1":
        data.update(tools=tools, prompts=prompts)
        MANIFEST_PATH.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert data["tools"] == tools, "tools changed: run with UPDATE_MANIFEST=1 and review the diff"
    assert data["prompts"] == prompts, "prompts changed: run with UPDATE_MANIFEST=1 and review the diff"
    assert data["tools_generated"] is False and data["prompts_generated"] is False
    assert len(tools) == 28 and all(tool["description"] for tool in tools)


def test_in_step_with_pyproject() -> None:
    data, project = manifest(), pyproject()
    assert data["name"] == project["name"]
    assert data["version"] == project["version"]
    assert data["license"] == project["license"] == "MIT"
    assert data["compatibility"]["runtimes"]["python"] == project["requires-python"]
    assert data["repository"]["url"] == project["urls"]["Repository"]
    assert data["homepage"] == project["urls"]["Homepage"]
    assert set(data["keywords"]) <= set(project["keywords"])


def test_the_server_is_run_by_uv_with_nothing_vendored() -> None:
    """Manifest 0.4's "uv" type: the host's uv installs pyproject.toml's dependencies (not the extras)."""
    data = manifest()
    assert data["manifest_version"] == "0.4"
    server = data["server"]
    assert server["type"] == "uv"
    assert (ROOT / server["entry_point"]).is_file()
    config = server["mcp_config"]
    assert config["command"] == "uv"
    assert config["args"] == ["run", "--directory", "${__dirname}", "--no-dev", "mvsep-mcp", "serve"]
    assert "mvsep-mcp" in pyproject()["scripts"]
    assert not (ROOT / "server" / "lib").exists() and not (ROOT / "lib").exists()


def test_every_user_setting_reaches_the_server_and_the_token_is_sensitive() -> None:
    data = manifest()
    env = data["server"]["mcp_config"]["env"]
    user_config = data["user_config"]
    used = {re.fullmatch(r"\$\{user_config\.(\w+)\}", value).group(1) for value in env.values()}  # type: ignore[union-attr]
    assert used == set(user_config)
    assert env == {
        "MVSEP_API_TOKEN": "${user_config.api_token}",
        "MVSEP_OUTPUT_DIR": "${user_config.output_dir}",
        "MVSEP_TOOLSETS": "${user_config.toolsets}",
        "MVSEP_OUTPUT_FORMAT": "${user_config.output_format}",
        "MVSEP_NAME_TEMPLATE": "${user_config.name_template}",
    }
    assert user_config["api_token"]["sensitive"] is True
    assert user_config["output_dir"]["type"] == "directory"
    assert not any(spec.get("required") for spec in user_config.values())  # the server starts with none of them


def test_icon_privacy_and_platforms() -> None:
    data = manifest()
    assert (ROOT / data["icon"]).read_bytes().startswith(PNG_SIGNATURE)
    assert (ROOT / data["icon"]).stat().st_size < 64 * 1024
    assert data["privacy_policies"] and all(url.startswith("https://") for url in data["privacy_policies"])
    assert "MVSep" in data["long_description"] and "uploaded" in data["long_description"]
    assert sorted(data["compatibility"]["platforms"]) == ["darwin", "linux", "win32"]
