"""The deployment files, checked without Docker: deploy/compose.yaml (two replicas, PostgreSQL, Caddy) read back with
PyYAML and every replica's environment loaded as the server would load it; the Caddyfile routes each replica's
sessions to it; the hosted image is the one Dockerfile with the hosted extras and the HTTP command; and the
session-id prefix the routing relies on, over real HTTP with the SDK's client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dockerfile
import httpx
import pytest
import yaml
from mvsep_mcp import policy
from mvsep_mcp.config import load_settings
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.http_server import free_port

from .conftest import INITIALIZE, MCP_HEADERS, RunningServer, hosted_settings, mcp_client

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TEST_VALUES = {"MVSEP_DOMAIN": "mcp.example.org", "POSTGRES_PASSWORD": "pw-0123456789",
               "MVSEP_SERVER_KEY": "k" * 43}


def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def interpolate(value: str) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?message}, with the test's values."""
    def one(match: re.Match[str]) -> str:
        name, op, rest = match.group(1), match.group(2), match.group(3) or ""
        if name in TEST_VALUES:
            return TEST_VALUES[name]
        assert op != ":?", f"{name} is required but has no test value"
        return rest if op == ":-" else ""
    return re.sub(r"\$\{(\w+)(:[-?])?([^}]*)\}", one, value)


def replicas(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in data["services"].items() if "MVSEP_REPLICA_ID" in s.get("environment", {})}


def test_two_replicas_one_database_one_stems_volume() -> None:
    data = compose()
    assert {"postgres", "caddy"} <= set(data["services"])
    found = replicas(data)
    assert len(found) == 2
    envs = {name: {k: interpolate(str(v)) for k, v in s["environment"].items()} for name, s in found.items()}
    assert len({e["MVSEP_DATABASE_URL"] for e in envs.values()}) == 1
    assert len({e["MVSEP_REPLICA_ID"] for e in envs.values()}) == 2
    volumes = {name: {v.split(":")[1]: v.split(":")[0] for v in s["volumes"]} for name, s in found.items()}
    assert len({v["/stems"] for v in volumes.values()}) == 1  # shared: any replica serves any user's files
    assert len({v["/data"] for v in volumes.values()}) == 2  # caches per replica
    for service in found.values():
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "/readyz" in " ".join(service["healthcheck"]["test"])
        assert "8000" in [str(p) for p in service["expose"]] and "ports" not in service  # only the proxy is public
    assert data["services"]["caddy"]["ports"] == ["80:80", "443:443"]


def test_every_replica_environment_is_a_working_hosted_configuration(tmp_path: Path) -> None:
    for name, service in replicas(compose()).items():
        env = {k: interpolate(str(v)) for k, v in service["environment"].items()}
        assert all(k.startswith("MVSEP_") for k in env)
        (tmp_path / "api-keys").write_text("")
        env.update({"MVSEP_AUTH_API_KEYS": str(tmp_path / "api-keys"), "MVSEP_OUTPUT_DIR": str(tmp_path / "stems"),
                    "MVSEP_DATA_DIR": str(tmp_path / name), "MVSEP_CONFIG": str(tmp_path / "none.toml")})
        settings = load_settings({}, env)
        assert settings.hosted.enabled and settings.hosted.auth_configured
        assert settings.hosted.resource_url == "https://mcp.example.org/mcp"
        assert settings.database_url is not None and settings.hosted.replica_id in ("a", "b")
        assert settings.token is None


def test_the_proxy_routes_each_session_to_its_replica() -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    for name, service in replicas(compose()).items():
        replica = service["environment"]["MVSEP_REPLICA_ID"]
        block = re.search(rf"@(\w+) header_regexp Mcp-Session-Id \^{replica}\\\.\s*\n\s*handle @\1 \{{\s*"
                          rf"reverse_proxy (\S+)", caddyfile)
        assert block and block.group(2) == f"{name}:8000", caddyfile
    fallback = re.search(r"handle \{\s*reverse_proxy ([^{]+)\{", caddyfile)
    assert fallback and set(fallback.group(1).split()) == {f"{n}:8000" for n in replicas(compose())}
    assert re.search(r"@internal path /metrics /readyz /healthz\s*handle @internal \{\s*respond 404", caddyfile)
    assert caddyfile.count("flush_interval -1") == 3  # SSE streams are not buffered
    mounted = [v for v in compose()["services"]["caddy"]["volumes"] if v.startswith("./Caddyfile:")]
    assert mounted == ["./Caddyfile:/etc/caddy/Caddyfile:ro"]


def test_the_proxy_sets_the_servers_body_limits() -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    units = {"KiB": 1024, "MiB": 1024 * 1024}
    limits = {}
    for matcher, size, unit in re.findall(r"request_body @(\w+) \{\s*max_size (\d+)(KiB|MiB)\s*\}", caddyfile):
        limits[matcher] = int(size) * units[unit]
    assert limits == {"mcp": policy.MCP_BODY_MAX_BYTES, "link": policy.LINK_FORM_MAX_BYTES,
                      "other": policy.OTHER_BODY_MAX_BYTES}
    assert "@mcp path /mcp" in caddyfile and "@link path /account/link/*" in caddyfile
    assert "@other not path /mcp /account/link/*" in caddyfile


def test_the_hosted_image_is_the_one_dockerfile_with_the_hosted_extras() -> None:
    from tests.ship.test_dockerfile import installed

    replica = compose()["x-replica"]
    build = replica["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == ROOT / "Dockerfile"
    parsed = list(dockerfile.parse_file(str(ROOT / "Dockerfile")))
    assert installed(parsed, build["args"]["EXTRAS"]) == ".[hosted,postgres]"
    entrypoint = next(c for c in parsed if c.cmd == "ENTRYPOINT").value
    assert [*entrypoint, *replica["command"]] == ["mvsep-mcp", "serve", "--transport", "http", "--host", "0.0.0.0",
                                                  "--port", "8000"]


@pytest.fixture(scope="module")
def replica_a(tmp_path_factory: pytest.TempPathFactory, sandbox: SandboxServer) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("replica")
    (root / "keys").write_text("")
    port = free_port()
    settings = hosted_settings(root, sandbox.base_url, port, auth_api_keys=str(root / "keys"), replica_id="a")
    with RunningServer(settings, port) as running:
        yield running


async def test_session_ids_name_their_replica(replica_a: RunningServer) -> None:
    from mvsep_mcp.hosted.api_keys import add_key

    keys = replica_a.settings.hosted.api_keys_file
    assert keys is not None
    key = add_key(keys, "session-user")
    async with httpx.AsyncClient() as http:
        answer = await http.post(replica_a.url + "/mcp", json=INITIALIZE,
                                 headers={**MCP_HEADERS, "Authorization": f"Bearer {key}"})
    assert answer.status_code == 200 and answer.headers["mcp-session-id"].startswith("a.")
    async with mcp_client(replica_a.url, key, mode="legacy") as client:  # the prefix comes back and is taken off
        assert (await client.list_tools()).tools
        assert not (await client.call_tool("search_models", {"limit": 1})).is_error
