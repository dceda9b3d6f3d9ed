"""Command-line conventions: --version, --log-level anywhere and in any case (or MVSEP_LOG_LEVEL), logs on stderr only,
an unknown toolset is a warning and not a dead server, and the sandbox commands explain a missing extra."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mvsep_mcp import __version__, cli

MAX_STARTUP_S = 60


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"mvsep-mcp {__version__}\n"


@pytest.mark.parametrize(
    "argv, env, level",
    [
        (["--log-level", "debug", "serve"], {}, "DEBUG"),
        (["serve", "--log-level", "Warning"], {}, "WARNING"),
        (["doctor", "--log-level=ERROR"], {}, "ERROR"),
        (["serve"], {"MVSEP_LOG_LEVEL": "debug"}, "DEBUG"),
        (["serve", "--log-level", "error"], {"MVSEP_LOG_LEVEL": "debug"}, "ERROR"),
        ([], {"MVSEP_LOG_LEVEL": "${user_config.log_level}"}, "INFO"),
        ([], {}, "INFO"),
    ],
)
def test_log_level_before_or_after_the_subcommand(argv: list[str], env: dict[str, str], level: str) -> None:
    args = cli.build_parser().parse_args(argv)
    assert cli.resolve_log_level(args, env) == (level, None)


def test_an_unusable_log_level_variable_is_a_warning() -> None:
    args = cli.build_parser().parse_args(["serve"])
    level, warning = cli.resolve_log_level(args, {"MVSEP_LOG_LEVEL": "loud"})
    assert level == "INFO"
    assert warning == "MVSEP_LOG_LEVEL 'loud' is not one of DEBUG, INFO, WARNING, ERROR (any case); logging at INFO."


def test_an_unusable_log_level_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args(["serve", "--log-level", "loud"])
    assert exited.value.code == 2
    assert "'loud' is not one of DEBUG, INFO, WARNING, ERROR (any case)" in capsys.readouterr().err


async def test_debug_logs_go_to_stderr_and_an_unknown_toolset_does_not_stop_the_server(tmp_path: Path) -> None:
    """The real process, launched as a host does: `serve --log-level debug` (flag after the subcommand), a bad
    toolset name. stdout must stay pure MCP (the client would fail on anything else); the warning is on stderr."""
    env = {
        "MVSEP_TOOLSETS": "catalog,bogus",
        "MVSEP_BASE_URL": "http://127.0.0.1:9/api",
        "MVSEP_DATA_DIR": str(tmp_path / "data"),
        "MVSEP_OUTPUT_DIR": str(tmp_path / "out"),
        "MVSEP_CONFIG": str(tmp_path / "absent.toml"),
        "MVSEP_CREDENTIALS": str(tmp_path / "absent.json"),
        "HOME": str(tmp_path),
    }
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "mvsep_mcp", "serve", "--log-level", "debug"], env=env, cwd=str(tmp_path)
    )
    errlog_path = tmp_path / "stderr.log"
    with errlog_path.open("w", encoding="utf-8") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode="legacy") as client:
            tools = await client.list_tools()
    assert [tool.name for tool in tools.tools] == ["search_models", "get_model", "recommend_models"]
    stderr = errlog_path.read_text(encoding="utf-8")
    assert " DEBUG " in stderr
    assert (
        "Unknown toolset 'bogus' ignored (MVSEP_TOOLSETS takes catalog, separation, jobs, studio, results, account, "
        "site, quality, auth or 'all'); starting with catalog." in stderr
    )


@pytest.mark.parametrize("command", ["sandbox", "demo", "bench", "faults"])
def test_testbench_commands_without_their_extra_name_the_install_command(command: str) -> None:
    """Simulate an install without the command's extra: its modules cannot be imported in the child."""
    extra = cli.TESTBENCH_EXTRAS[command]
    blocked = ", ".join(repr(name) for name in sorted(cli.EXTRA_MODULES[extra]))
    code = (
        "import sys\n"
        f"for name in ({blocked}):\n"
        "    sys.modules[name] = None\n"
        "from mvsep_mcp.cli import main\n"
        f"raise SystemExit(main([{command!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=MAX_STARTUP_S)
    assert done.returncode == 2
    assert done.stdout == ""
    missing = re.fullmatch(
        rf"`mvsep-mcp {command}` needs the {extra} extra \((\w+) is missing\): install it with "
        rf"pip install 'mvsep-mcp\[{extra}\]' \(in a checkout: \.venv/bin/pip install -e '\.\[{extra}\]'\)\.\n",
        done.stderr,
    )
    assert missing is not None, done.stderr
    assert missing.group(1) in cli.EXTRA_MODULES[extra]


def test_the_product_package_holds_no_test_bench() -> None:
    """The installed ``mvsep_mcp`` holds the product alone: the sandbox, the fault suite, the benchmark and the demo
    are ``mvsep_mcp_testbench``, which the product never imports (the CLI's test-bench commands aside, at run)."""
    import mvsep_mcp

    folder = Path(mvsep_mcp.__file__).parent
    assert not [p for p in ("sandbox", "faults", "bench", "demo.py") if (folder / p).exists()]
    code = ("import sys, mvsep_mcp.app, mvsep_mcp.cli, mvsep_mcp.serving.http_server\n"
            "print(sorted(m for m in sys.modules if m.startswith('mvsep_mcp_testbench')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=MAX_STARTUP_S)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
