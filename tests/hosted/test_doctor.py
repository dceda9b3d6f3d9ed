"""`mvsep-mcp doctor` for a server of many users: no server token is asked for, and what signing users in needs is
checked (the hosted extra, the server key, the JWKS / introspection / API keys, an https public URL)."""

from __future__ import annotations

from pathlib import Path

from mvsep_mcp.doctor import run_doctor
from mvsep_mcp.hosted.api_keys import add_key
from mvsep_mcp.hosted.vault import new_server_key
from mvsep_mcp_testbench.sandbox import SandboxServer

from tests.hosted.conftest import Issuer

HOSTED_CHECKS = ["settings", "mvsep", "token", "premium", "credits", "output", "journal", "toolsets", "hosted",
                 "server-key", "sign-in", "public-url"]


def doctor(tmp_path: Path, sandbox: SandboxServer, **values: str) -> tuple[int, dict[str, str]]:
    env = {
        "MVSEP_BASE_URL": sandbox.base_url,
        "MVSEP_OUTPUT_DIR": str(tmp_path / "out"),
        "MVSEP_DATA_DIR": str(tmp_path / "data"),
        "MVSEP_CONFIG": str(tmp_path / "absent.toml"),
        "MVSEP_CREDENTIALS": str(tmp_path / "absent.json"),
        **{f"MVSEP_{name.upper()}": value for name, value in values.items()},
    }
    lines: list[str] = []
    code = run_doctor({}, env, write=lines.append)
    by_name = {line[7:].split()[0]: line for line in lines}
    assert list(by_name) == HOSTED_CHECKS, lines
    return code, by_name


def test_a_healthy_hosted_setup_asks_for_no_server_token(tmp_path: Path, sandbox: SandboxServer,
                                                         issuer: Issuer) -> None:
    (tmp_path / "out").mkdir()
    keys = tmp_path / "api-keys"
    add_key(keys, "alice")
    server_key = new_server_key()
    code, lines = doctor(tmp_path, sandbox, public_url="https://mcp.example.org", auth_issuer=issuer.issuer,
                         auth_jwks_url=issuer.url + "/jwks.json", auth_introspection_url=issuer.url + "/introspect",
                         auth_client_id=issuer.client_id, auth_client_secret=issuer.client_secret,
                         auth_api_keys=str(keys), server_key=server_key)
    assert code == 0, lines
    assert lines["token"].startswith("[skip]") and "each user links their own MVSep account" in lines["token"]
    assert lines["sign-in"].startswith("[ok  ]"), lines["sign-in"]
    assert "JWKS: 1 key" in lines["sign-in"] and "introspection takes" in lines["sign-in"]
    assert "API keys: 1 for 1 user" in lines["sign-in"]
    assert lines["server-key"].startswith("[ok  ]") and "MVSEP_SERVER_KEY" in lines["server-key"]
    assert lines["public-url"].endswith("users reach https://mcp.example.org/mcp")
    report = "".join(lines.values())
    assert server_key not in report and issuer.client_secret not in report


def test_broken_sign_in_and_plain_http_fail_with_their_fixes(tmp_path: Path, sandbox: SandboxServer,
                                                             issuer: Issuer) -> None:
    code, lines = doctor(tmp_path, sandbox, public_url="http://mcp.example.org", auth_issuer=issuer.issuer,
                         auth_jwks_url=issuer.url + "/nothing-here", auth_introspection_url=issuer.url + "/introspect",
                         auth_client_id=issuer.client_id, auth_client_secret="not-the-secret-at-all",
                         api_token="server-wide-token-123456")
    assert code == 1
    assert lines["sign-in"].startswith("[FAIL]")
    assert "is not a JWKS (HTTP 404)" in lines["sign-in"] and "check MVSEP_AUTH_JWKS_URL" in lines["sign-in"]
    assert "refused this server's credentials (HTTP 401)" in lines["sign-in"]
    assert "MVSEP_AUTH_CLIENT_SECRET" in lines["sign-in"]
    assert lines["public-url"].startswith("[FAIL]") and "TLS proxy" in lines["public-url"]
    assert lines["server-key"].startswith("[WARN]") and "first start" in lines["server-key"]
    assert not (tmp_path / "data" / "server.key").exists()  # the doctor changes nothing
    assert "server-wide-token-123456" not in "".join(lines.values())


def test_an_empty_keys_file_warns_and_a_short_server_key_fails(tmp_path: Path, sandbox: SandboxServer) -> None:
    keys = tmp_path / "api-keys"
    keys.touch()
    code, lines = doctor(tmp_path, sandbox, public_url="http://127.0.0.1:8000", auth_api_keys=str(keys),
                         server_key="short")
    assert code == 1
    assert lines["sign-in"].startswith("[WARN]") and "mvsep-mcp keys add USER" in lines["sign-in"]
    assert lines["server-key"].startswith("[FAIL]") and "mvsep-mcp keys server-key" in lines["server-key"]
    assert lines["public-url"].startswith("[WARN]") and "this machine only" in lines["public-url"]
    assert "short" not in lines["server-key"].split("]", 1)[1].replace("shorter", "")
