"""The `mvsep-mcp` command.

    mvsep-mcp [serve]      run the MCP server (stdio by default; --transport http for streamable HTTP)
    mvsep-mcp sandbox      run the local MVSep-compatible sandbox API (no token or network needed)
    mvsep-mcp demo         a real separation through the MCP server over stdio against the sandbox
    mvsep-mcp bench        measure speed against the sandbox, as ratios to references (--quick: about a minute)
    mvsep-mcp login        store your MVSep API token (owner-only), from a prompt: never through the model

Everything but the MCP stream goes to stderr: stdout belongs to the protocol when serving over stdio.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from typing import Any

from mvsep_mcp import __version__
from mvsep_mcp.config import ALL_TOOLSETS, OUTPUT_FORMATS, ConfigError, load_settings
from mvsep_mcp.logs import setup_logging


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help="MVSep API base URL (env MVSEP_BASE_URL)")
    parser.add_argument("--output-dir", help="folder for the stems (env MVSEP_OUTPUT_DIR)")
    parser.add_argument("--data-dir", help="folder for the job journal and caches (env MVSEP_DATA_DIR)")
    parser.add_argument("--toolsets", help=f"comma-separated toolsets or 'all': {', '.join(ALL_TOOLSETS)}")
    parser.add_argument("--name-template", help="file naming template, e.g. '{song}/{title} ({stem}).{ext}'")
    parser.add_argument("--output-format", choices=sorted(OUTPUT_FORMATS), help="default output format")
    parser.add_argument("--config", help="a TOML config file (env MVSEP_CONFIG)")


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("base_url", "output_dir", "data_dir", "toolsets", "name_template", "output_format", "config")
    return {key: getattr(args, key, None) for key in keys}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mvsep-mcp", description="MVSep music separation as an MCP server.")
    parser.add_argument("--version", action="version", version=f"mvsep-mcp {__version__}")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="run the MCP server (the default)")
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1", help="with --transport http")
    serve.add_argument("--port", type=int, default=8000, help="with --transport http")
    _add_settings_flags(serve)

    sandbox = sub.add_parser("sandbox", help="run the local MVSep-compatible sandbox API")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--fast", action="store_true", help="jobs finish in seconds instead of realistic minutes")

    demo = sub.add_parser("demo", help="separate a song through the MCP server against the sandbox")
    demo.add_argument("--input", help="an audio file to separate (default: a generated, tagged song)")
    demo.add_argument("--format", choices=sorted(OUTPUT_FORMATS), default="flac", help="output format")
    demo.add_argument("--model", default="Demucs4 HT", help="model name or id")
    demo.add_argument("--output-dir", help="where the stems go (default: a new temporary folder)")

    bench = sub.add_parser("bench", help="measure speed against the sandbox: a table of ratios (needs [sandbox])")
    bench.add_argument("--quick", action="store_true", help="a smoke run of about a minute (small sizes)")
    bench.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    bench.add_argument("--only", metavar="GROUPS", help="comma-separated: startup, upload, short, files, batches")
    bench.add_argument("--long-job-s", type=float, help="length of the long job (default 150 s; quick 20 s)")
    bench.add_argument("--keep", action="store_true", help="keep the work folder (inputs, stems, server logs)")

    login = sub.add_parser("login", help="store your MVSep API token (owner-only file)")
    login.add_argument("--email", help="sign in with email and password instead of pasting a token")
    login.add_argument("--base-url", help="MVSep API base URL")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "serve"
    setup_logging(args.log_level)
    try:
        if command == "serve":
            return _serve(args)
        if command == "sandbox":
            from mvsep_mcp.sandbox import JobTiming, run_sandbox

            run_sandbox(args.host, args.port, job_timing=JobTiming.fast() if args.fast else None)
            return 0
        if command == "demo":
            from mvsep_mcp.demo import run_demo

            return run_demo(args)
        if command == "bench":
            from mvsep_mcp.bench.run import run_bench

            return run_bench(args)
        if command == "login":
            return _login(args)
    except ConfigError as exc:
        sys.stderr.write(f"mvsep-mcp: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


def _serve(args: argparse.Namespace) -> int:
    from mvsep_mcp.app import create_server

    settings = load_settings(_flags(args) if args.command else {})
    server = create_server(settings)
    if getattr(args, "transport", "stdio") == "http":
        server.run("streamable-http", host=args.host, port=args.port)
    else:
        server.run("stdio")
    return 0


def _login(args: argparse.Namespace) -> int:
    import anyio

    from mvsep_mcp.config import store_token
    from mvsep_mcp.mvsep import MVSepClient
    from mvsep_mcp.mvsep.errors import MVSepError

    settings = load_settings({"base_url": args.base_url})

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
