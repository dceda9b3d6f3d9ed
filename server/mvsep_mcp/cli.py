"""The `mvsep-mcp` command.

    mvsep-mcp [serve]      run the MCP server (stdio by default; --transport http for streamable HTTP)
    mvsep-mcp sandbox      run the local MVSep-compatible sandbox API (no token or network needed)
    mvsep-mcp demo         a real separation through the MCP server over stdio against the sandbox
    mvsep-mcp bench        measure speed against the sandbox, as ratios to references (--quick: about a minute;
                           --soak: one server for hundreds of requests over a simulated week)
    mvsep-mcp login        store your MVSep API token (owner-only), from a prompt: never through the model
    mvsep-mcp doctor       check the setup (token, credits, MVSep, output folder, journal; hosted: sign-in), a line each
    mvsep-mcp faults       the fault suite against the sandbox: every fault, crash point, fuzzing and load, as a table
    mvsep-mcp keys         a hosted server's static API keys (add prints a new key once; only its hash is kept) and
                           its server key

``--log-level`` (any case) goes before or after the subcommand; ``MVSEP_LOG_LEVEL`` sets it too (the flag wins).
``MVSEP_LOG_FORMAT=json`` writes one JSON object per log line (with the HTTP request's id), for a log collector.

Everything but the MCP stream goes to stderr: stdout belongs to the protocol when serving over stdio.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mvsep_mcp import __version__
from mvsep_mcp.config import ALL_TOOLSETS, ConfigError, is_unset, load_settings
from mvsep_mcp.logs import setup_logging
from mvsep_mcp.mvsep.formats import DEFAULT_FORMAT, FORMAT_NAMES

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_LOG_LEVEL = "INFO"
# what the `sandbox` extra brings (pyproject.toml): missing, `sandbox` and `demo` say how to install it
# The test bench's commands (mvsep_mcp_testbench, imported only when one runs) and the extra each needs: a module of
# that extra's that is missing is answered with the install line, never a traceback.
TESTBENCH_EXTRAS = {"sandbox": "sandbox", "demo": "sandbox", "bench": "sandbox", "faults": "faults"}
EXTRA_MODULES = {
    "sandbox": frozenset({"numpy", "soundfile", "av", "starlette", "uvicorn", "multipart", "python_multipart"}),
    "faults": frozenset({"numpy", "soundfile", "av", "starlette", "uvicorn", "multipart", "python_multipart",
                         "hypothesis", "cryptography", "itsdangerous", "prometheus_client", "jwt"}),
}
EXTRA_HELP = (
    "`mvsep-mcp {command}` needs the {extra} extra ({module} is missing): install it with "
    "pip install 'mvsep-mcp[{extra}]' (in a checkout: .venv/bin/pip install -e '.[{extra}]')."
)


def _log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"{value!r} is not one of {', '.join(LOG_LEVELS)} (any case)")
    return level


def _log_flag_parent() -> argparse.ArgumentParser:
    """``--log-level`` for the main parser and every subcommand (SUPPRESS: absent unless given, so neither
    position overwrites the other with a default)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--log-level",
        type=_log_level,
        default=argparse.SUPPRESS,
        metavar="LEVEL",
        help=f"{', '.join(LOG_LEVELS)} (any case; env MVSEP_LOG_LEVEL; default {DEFAULT_LOG_LEVEL}); logs go to stderr",
    )
    return parent


def _speed(value: str) -> float:
    try:
        speed = float(value)
    except ValueError:
        speed = 0.0
    if not speed > 0 or speed == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number (got {value!r})")
    return speed


def resolve_log_level(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """The level from the flag, else ``MVSEP_LOG_LEVEL``, else INFO; with a warning for an unusable variable."""
    flag = getattr(args, "log_level", None)
    if flag:
        return str(flag), None
    value = (os.environ if env is None else env).get("MVSEP_LOG_LEVEL")
    if is_unset(value):
        return DEFAULT_LOG_LEVEL, None
    try:
        return _log_level(str(value)), None
    except argparse.ArgumentTypeError as exc:
        return DEFAULT_LOG_LEVEL, f"MVSEP_LOG_LEVEL {exc}; logging at {DEFAULT_LOG_LEVEL}."


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help="MVSep API base URL (env MVSEP_BASE_URL)")
    parser.add_argument("--output-dir", help="folder for the stems (env MVSEP_OUTPUT_DIR)")
    parser.add_argument("--data-dir", help="folder for the job journal and caches (env MVSEP_DATA_DIR)")
    parser.add_argument("--toolsets", help=f"comma-separated toolsets or 'all': {', '.join(ALL_TOOLSETS)}")
    parser.add_argument("--name-template", help="file naming template, e.g. '{song}/{title} ({stem}).{ext}'")
    parser.add_argument("--output-format", choices=FORMAT_NAMES, help="default output format")
    parser.add_argument("--config", help="a TOML config file (env MVSEP_CONFIG)")


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("base_url", "output_dir", "data_dir", "toolsets", "name_template", "output_format", "config")
    return {key: getattr(args, key, None) for key in keys}


def build_parser() -> argparse.ArgumentParser:
    log_flag = _log_flag_parent()
    parser = argparse.ArgumentParser(
        prog="mvsep-mcp", description="MVSep music separation as an MCP server.", parents=[log_flag]
    )
    parser.add_argument("--version", action="version", version=f"mvsep-mcp {__version__}")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="run the MCP server (the default)", parents=[log_flag])
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1", help="with --transport http")
    serve.add_argument("--port", type=int, default=8000, help="with --transport http")
    _add_settings_flags(serve)

    sandbox = sub.add_parser("sandbox", help="run the local MVSep-compatible sandbox API", parents=[log_flag])
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--fast", action="store_true", help="jobs finish in seconds instead of realistic minutes")
    sandbox.add_argument("--speed", type=_speed, default=1.0, metavar="X",
                         help="run the sandbox's clock X times as fast as real time (jobs, the 72-hour retention, "
                              "rate limits): 720 makes a real second twelve sandbox minutes")
    sandbox.add_argument("--faults", metavar="SPEC", help="inject faults, e.g. 'get:status=502:count=2,files:vanish' "
                         "(env MVSEP_SANDBOX_FAULTS; see README 'Fault injection')")

    demo = sub.add_parser(
        "demo", help="separate a song through the MCP server against the sandbox", parents=[log_flag]
    )
    demo.add_argument("--input", help="an audio file to separate (default: a generated, tagged song)")
    demo.add_argument("--format", choices=FORMAT_NAMES, default=DEFAULT_FORMAT, help="output format")
    demo.add_argument("--model", default="Demucs4 HT", help="model name or id")
    demo.add_argument("--output-dir", help="where the stems go (default: a new temporary folder)")

    bench = sub.add_parser("bench", help="measure speed against the sandbox: a table of ratios (needs [sandbox])",
                           parents=[log_flag])
    bench.add_argument("--quick", action="store_true", help="a smoke run of about a minute (small sizes)")
    bench.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    bench.add_argument("--only", metavar="GROUPS",
                       help="comma-separated: startup, upload, short, files, batches, verify")
    bench.add_argument("--long-job-s", type=float, help="length of the long job (default 150 s; quick 20 s)")
    bench.add_argument("--keep", action="store_true", help="keep the work folder (inputs, stems, server logs)")
    bench.add_argument("--soak", action="store_true", help="one server for 300 requests over a simulated week: per "
                       "100 requests, latency, status requests, memory, descriptors, threads, journal and log")
    bench.add_argument("--requests", type=int, metavar="N", help="with --soak: how many (default 300; quick 24)")

    login = sub.add_parser("login", help="store your MVSep API token (owner-only file)", parents=[log_flag])
    login.add_argument("--email", help="sign in with email and password instead of pasting a token")
    login.add_argument("--base-url", help="MVSep API base URL")

    doctor = sub.add_parser(
        "doctor", help="check token, credits, MVSep reachability, output folder and journal", parents=[log_flag]
    )
    _add_settings_flags(doctor)

    faults = sub.add_parser("faults", help="run the fault suite against the sandbox and print its table",
                            parents=[log_flag])
    faults.add_argument("--only", metavar="GROUPS", help="comma-separated: faults, destinations, disks, journal, "
                        "accounts, load, crash, fuzz, abuse (default: all)")
    faults.add_argument("--fuzz-examples", type=int, default=None, metavar="N",
                        help="fuzzed argument sets per tool (default: the suite's own)")
    faults.add_argument("--seed", type=int, help="fuzz with this seed instead of the same examples every run")

    keys = sub.add_parser("keys", help="a hosted server's API keys (stored hashed) and server key", parents=[log_flag])
    keys.add_argument("action", choices=["add", "list", "remove", "server-key"],
                      help="add USER: print a new key once; list; remove USER; server-key: print a new server key")
    keys.add_argument("user", nargs="?", help="the user a key stands for (add, remove)")
    keys.add_argument("--scopes", default="mvsep:read,mvsep:separate",
                      help="comma-separated: mvsep:read, mvsep:separate, mvsep:account (default: read and separate)")
    keys.add_argument("--file", help="the keys file (default: MVSEP_AUTH_API_KEYS)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "serve"
    level, level_warning = resolve_log_level(args)
    log_format = os.environ.get("MVSEP_LOG_FORMAT", "text").strip().lower()
    setup_logging(level, "json" if log_format == "json" else "text")
    if level_warning:
        sys.stderr.write(f"mvsep-mcp: {level_warning}\n")
    try:
        if command == "serve":
            return _serve(args)
        if command in ("sandbox", "demo", "bench", "faults"):
            return _testbench_command(command, args)
        if command == "login":
            return _login(args)
        if command == "keys":
            return _keys(args)
        if command == "doctor":
            from mvsep_mcp.doctor import run_doctor

            return run_doctor(_flags(args))
    except ConfigError as exc:
        sys.stderr.write(f"mvsep-mcp: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


def _testbench_command(command: str, args: argparse.Namespace) -> int:
    """``sandbox``, ``demo``, ``bench`` and ``faults`` run the test bench (``mvsep_mcp_testbench``), imported only
    now: it needs extras (``TESTBENCH_EXTRAS``) that a bundle or a plain install leaves out."""
    extra = TESTBENCH_EXTRAS[command]
    try:
        if command == "sandbox":
            from mvsep_mcp_testbench.sandbox import FaultSpecError, JobTiming, run_sandbox
        elif command == "bench":
            from mvsep_mcp_testbench.bench.run import run_bench
        elif command == "faults":
            from mvsep_mcp_testbench.faults.report import run_report
        else:
            from mvsep_mcp_testbench.demo import run_demo
    except ModuleNotFoundError as exc:
        module = (exc.name or "").split(".")[0]
        if module not in EXTRA_MODULES[extra] and module != "mvsep_mcp_testbench":
            raise
        sys.stderr.write(EXTRA_HELP.format(command=command, extra=extra, module=module) + "\n")
        return 2
    if command == "sandbox":
        try:
            run_sandbox(args.host, args.port, job_timing=JobTiming.fast() if args.fast else None, faults=args.faults,
                        speed=args.speed)
        except FaultSpecError as exc:
            sys.stderr.write(f"mvsep-mcp sandbox: --faults: {exc}\n")
            return 2
        return 0
    if command == "bench":
        return run_bench(args)
    if command == "faults":
        return run_report(args)
    return run_demo(args)


def _serve(args: argparse.Namespace) -> int:
    from mvsep_mcp.app import create_server

    settings = load_settings(_flags(args) if args.command else {})
    if getattr(args, "transport", "stdio") == "http":
        from mvsep_mcp.serving.http_server import serve_http

        serve_http(create_server(settings), settings, host=args.host, port=args.port)
        return 0
    from mvsep_mcp.serving.stopping import serve_stdio

    return serve_stdio(lambda on_stopped: create_server(settings, on_stopped=on_stopped))


def _keys(args: argparse.Namespace) -> int:
    from mvsep_mcp.hosted.api_keys import ApiKeyError, add_key, read_keys, remove_keys

    if args.action == "server-key":
        try:
            from mvsep_mcp.hosted.vault import new_server_key
        except ImportError:
            sys.stderr.write("mvsep-mcp keys server-key needs the hosted extra: pip install 'mvsep-mcp[hosted]'.\n")
            return 2
        sys.stdout.write(new_server_key() + "\n")
        return 0
    path_text = args.file or os.environ.get("MVSEP_AUTH_API_KEYS")
    if not path_text:
        sys.stderr.write("mvsep-mcp keys: give --file or set MVSEP_AUTH_API_KEYS (the server's keys file).\n")
        return 2
    path = Path(path_text).expanduser()
    try:
        if args.action == "list":
            for stored in read_keys(path):
                sys.stdout.write(f"{stored.user}\t{','.join(stored.scopes)}\t{stored.digest[:12]}…\n")
            return 0
        if not args.user:
            sys.stderr.write(f"mvsep-mcp keys {args.action}: name the USER.\n")
            return 2
        if args.action == "remove":
            removed = remove_keys(path, args.user)
            sys.stderr.write(f"Removed {removed} key(s) of {args.user} from {path}.\n")
            return 0 if removed else 1
        key = add_key(path, args.user, tuple(s.strip() for s in args.scopes.split(",") if s.strip()))
    except ApiKeyError as exc:
        sys.stderr.write(f"mvsep-mcp keys: {exc.user_text()}\n")
        return 2
    sys.stderr.write(f"A new key for {args.user} (shown once; {path} keeps only its hash). Send it as "
                     f"'Authorization: Bearer <key>':\n")
    sys.stdout.write(key + "\n")
    return 0


def _login(args: argparse.Namespace) -> int:
    import anyio

    from mvsep_mcp.config import store_token
    from mvsep_mcp.mvsep import MVSepClient
    from mvsep_mcp.mvsep.errors import MVSepError

    settings = load_settings({"base_url": args.base_url})
    if settings.hosted.enabled:
        sys.stderr.write("mvsep-mcp login stores one token for the whole server, which a hosted server does not use: "
                         "each user links their own account on the page a tool call offers.\n")
        return 2

    async def check(token: str) -> str:
        async with MVSepClient(token, base_url=settings.base_url) as client:
            user = await client.user()
            return str(user.name or user.email or "your account")

    async def sign_in(email: str, password: str) -> str | None:
        async with MVSepClient(None, base_url=settings.base_url) as client:
            result = await client.login(email, password)
            return result.token()

    try:
        if args.email:
            password = getpass.getpass("MVSep password (not shown): ")
            token = anyio.run(sign_in, args.email, password)
            if not token:
                sys.stderr.write(
                    "MVSep signed you in but returned no API token: copy it from https://mvsep.com/user-api "
                    "and run `mvsep-mcp login` again to paste it.\n"
                )
                return 1
        else:
            token = getpass.getpass("Paste your MVSep API token (from https://mvsep.com/user-api; not shown): ").strip()
            if not token:
                sys.stderr.write("No token given; nothing stored.\n")
                return 1
        who = anyio.run(check, token)
    except MVSepError as exc:
        sys.stderr.write(f"mvsep-mcp: {exc}\n")
        return 1
    path = store_token(token, settings.credentials_file)
    sys.stderr.write(f"Signed in as {who}. Token stored in {path} (readable by you only).\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
