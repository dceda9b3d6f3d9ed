"""The base install does not grow: without what the [hosted] extra adds (itsdangerous, prometheus_client;
cryptography already comes with the MCP SDK) the server still builds, lists its tools and serves HTTP for one account;
only hosted mode asks for the extra, with a sentence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import importlib.abc, sys

class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("itsdangerous", "prometheus_client"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Missing())
import anyio
from mcp.client.client import Client
from mvsep_mcp.app import create_server
from mvsep_mcp.config import ConfigError, load_settings
from mvsep_mcp.serving.http_server import http_app

root = sys.argv[1]
env = {"MVSEP_OUTPUT_DIR": root + "/out", "MVSEP_DATA_DIR": root + "/data", "MVSEP_CONFIG": root + "/none.toml",
       "MVSEP_CREDENTIALS": root + "/cred.json"}
server = create_server(load_settings({}, env))
http_app(server, load_settings({}, env), host="127.0.0.1")

async def main():
    async with Client(server) as client:
        print(len((await client.list_tools()).tools), "tools")

anyio.run(main)
try:
    create_server(load_settings({}, {**env, "MVSEP_AUTH_API_KEYS": root + "/keys",
                                     "MVSEP_PUBLIC_URL": "https://mcp.example.org"}))
except ConfigError as exc:
    print("hosted:", exc)
"""


def test_the_server_without_the_hosted_extra(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].endswith(" tools") and int(lines[0].split()[0]) > 0
    assert lines[1] == "hosted: Hosted mode needs the hosted extra (itsdangerous is missing): " \
                       "pip install 'mvsep-mcp[hosted]'."
