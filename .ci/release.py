#!/usr/bin/env python3
"""The release's own steps, the same here, in the tests and in .github/workflows/release.yml (standard library only).

    python .ci/release.py version                     print the version (pyproject.toml's, the one declaration)
    python .ci/release.py set-version 0.2.0           write it to pyproject.toml and every copy of it
    python .ci/release.py check-version [--tag v0.2.0]  fail if a copy (or the tag) differs from pyproject.toml
    python .ci/release.py notes                       print CHANGELOG.md's section of this version (the release's notes)
    python .ci/release.py build OUT [--python] [--bundle]

The version is declared once, in pyproject.toml; the server reads it from the installed distribution's metadata.
Copies that cannot read it at run time are written by ``set-version``: manifest.json (the bundle), server.json (the
MCP Registry entry: its version, the PyPI package's, the bundle's and the bundle's download URL), and the wheel's
file name in README.md's install lines.

``build OUT`` builds what pyproject.toml and manifest.json declare, from a clean copy of this checkout:
``OUT/dist/`` the sdist and the wheel (``python -m build``: the wheel is built from the sdist), ``OUT/<bundle>`` the
MCP bundle (``mcpb pack``, through npx on Node 22), and ``OUT/server.json``: server.json with the bundle's SHA-256 in
place of the placeholder. ``--python`` or ``--bundle`` builds only that part. The checks of what was built are the
tests (tests/ship, pointed at OUT by ``MVSEP_RELEASE_DIST``); publishing is the workflow's alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MCPB = "@anthropic-ai/mcpb@2.1.2"  # the bundle tool, pinned (the tests use this one too)
NODE = "node@22"  # mcpb and the MCP Inspector need Node 22
BUNDLE_PLACEHOLDER_SHA256 = "0" * 64  # server.json in the repository: the release writes the real hash
SOURCE_IGNORED = (".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache",
                  ".mypy_cache", ".ruff_cache", "node_modules", "*.mcpb", "artifacts")
WHEEL_NAME = re.compile(r"mvsep_mcp-[0-9][0-9A-Za-z.+!-]*-py3-none-any\.whl")
PROJECT_VERSION = re.compile(r'(?m)^(version\s*=\s*")([^"]+)(")')


class ReleaseError(Exception):
    """A step of the release cannot go on; the message says why."""


# --- the version and its copies -------------------------------------------------------------------------------------


def pyproject(root: Path = ROOT) -> dict[str, Any]:
    with (root / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]  # type: ignore[no-any-return]


def version(root: Path = ROOT) -> str:
    return str(pyproject(root)["version"])


def bundle_name(release: str) -> str:
    return f"mvsep-mcp-{release}.mcpb"


def bundle_url(repository: str, release: str) -> str:
    """Where the release workflow attaches the bundle (a GitHub release asset: what the registry accepts)."""
    return f"{repository.rstrip('/')}/releases/download/v{release}/{bundle_name(release)}"


def _read_json(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def versions(root: Path = ROOT) -> dict[str, str]:
    """Every copy of the version, by where it is written."""
    manifest = _read_json(root / "manifest.json")
    server = _read_json(root / "server.json")
    found = {"pyproject.toml": version(root), "manifest.json": str(manifest["version"]),
             "server.json version": str(server["version"])}
    for package in server.get("packages", []):
        kind = package["registryType"]
        if "version" in package:
            found[f"server.json {kind} package"] = str(package["version"])
        if kind == "mcpb":
            found["server.json mcpb URL"] = package["identifier"]
    readme = (root / "README.md").read_text(encoding="utf-8")
    for index, name in enumerate(sorted(set(WHEEL_NAME.findall(readme)))):
        found[f"README.md wheel name {index + 1}"] = name
    return found


def differences(root: Path = ROOT, tag: str | None = None) -> list[str]:
    """Each copy that is not pyproject.toml's version, as a sentence (empty: all agree)."""
    release = version(root)
    repository = str(pyproject(root)["urls"]["Repository"])
    expected = {"server.json mcpb URL": bundle_url(repository, release)}
    wrong = []
    for where, value in versions(root).items():
        if where.startswith("README.md wheel name"):
            want = f"mvsep_mcp-{release}-py3-none-any.whl"
        else:
            want = expected.get(where, release)
        if value != want:
            wrong.append(f"{where} has {value!r}, not {want!r}")
    if tag is not None and tag.removeprefix("refs/tags/") != f"v{release}":
        wrong.append(f"the tag {tag!r} is not v{release} (pyproject.toml's version)")
    return wrong


def set_version(new: str, root: Path = ROOT) -> None:
    """Write ``new`` into pyproject.toml and every copy (manifest.json, server.json, README.md's wheel names)."""
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)*([abc]|rc)?[0-9]*(\.post[0-9]+)?(\.dev[0-9]+)?", new):
        raise ReleaseError(f"{new!r} is not a release version such as 1.2.0 or 1.2.0rc1")
    project_file = root / "pyproject.toml"
    text = project_file.read_text(encoding="utf-8")
    start = text.index("[project]\n")
    end = text.find("\n[", start + 1)
    end = len(text) if end < 0 else end
    section, count = PROJECT_VERSION.subn(rf"\g<1>{new}\g<3>", text[start:end], count=1)
    if count != 1:
        raise ReleaseError("pyproject.toml has no version = \"…\" line in [project]")
    project_file.write_text(text[:start] + section + text[end:], encoding="utf-8")

    manifest = _read_json(root / "manifest.json")
    manifest["version"] = new
    _write_json(root / "manifest.json", manifest)

    server = _read_json(root / "server.json")
    server["version"] = new
    repository = str(pyproject(root)["urls"]["Repository"])
    for package in server.get("packages", []):
        if "version" in package:
            package["version"] = new
        if package["registryType"] == "mcpb":
            package["identifier"] = bundle_url(repository, new)
            package["fileSha256"] = BUNDLE_PLACEHOLDER_SHA256
    _write_json(root / "server.json", server)

    readme = root / "README.md"
    readme.write_text(WHEEL_NAME.sub(f"mvsep_mcp-{new}-py3-none-any.whl", readme.read_text(encoding="utf-8")),
                      encoding="utf-8")


def notes(root: Path = ROOT) -> str:
    """CHANGELOG.md's section for pyproject.toml's version (``## [1.2.0] - 2026-12-24``), without its heading."""
    release = version(root)
    text = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    found = re.search(rf"(?ms)^## \[{re.escape(release)}\][^\n]*\n(.*?)(?=^## |^\[[^\]]+\]: |\Z)", text)
    if found is None or not found.group(1).strip():
        raise ReleaseError(f"CHANGELOG.md has no notes under ## [{release}]: move them from [Unreleased]")
    return found.group(1).strip() + "\n"


# --- building ----------------------------------------------------------------------------------------------------


def clean_copy(dest: Path, root: Path = ROOT) -> Path:
    """The checkout without caches, virtual environments or earlier builds, to build from."""
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns(*SOURCE_IGNORED))
    return dest


def _run(command: list[str], cwd: Path | None = None) -> None:
    print("+", " ".join(command), flush=True)
    done = subprocess.run(command, cwd=cwd, stdin=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        raise ReleaseError(f"{command[0]} failed (exit {done.returncode})")


def npx() -> str:
    found = shutil.which("npx")
    if found is None:
        raise ReleaseError("npx is not on PATH: install Node.js (the bundle is packed by mcpb, an npm package)")
    return found


def build_python(source: Path, out: Path) -> list[Path]:
    """The sdist and the wheel (the wheel built from the sdist), in ``out``."""
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(source)])
    return sorted(out.iterdir())


def build_bundle(source: Path, out: Path) -> Path:
    """The MCP bundle, packed as manifest.json and .mcpbignore say."""
    target = out / bundle_name(version(source))
    _run([npx(), "-y", "-p", NODE, "-p", MCPB, "mcpb", "pack", str(source), str(target)])
    return target


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def registry_entry(source: Path, bundle: Path) -> dict[str, Any]:
    """server.json as published: the bundle's SHA-256 and file name in place."""
    server = _read_json(source / "server.json")
    for package in server["packages"]:
        if package["registryType"] == "mcpb":
            if not package["identifier"].endswith("/" + bundle.name):
                raise ReleaseError(f"server.json's bundle URL does not end in {bundle.name}: run set-version")
            package["fileSha256"] = sha256(bundle)
    return server


def build(out: Path, python: bool = True, bundle: bool = True, root: Path = ROOT) -> None:
    wrong = differences(root)
    if wrong:
        raise ReleaseError("the versions differ: " + "; ".join(wrong) + " (run .ci/release.py set-version)")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mvsep-release-") as tmp:
        source = clean_copy(Path(tmp) / "src", root)
        if python:
            build_python(source, out / "dist")
        if bundle:
            packed = build_bundle(source, out)
            _write_json(out / "server.json", registry_entry(source, packed))
    for path in sorted(out.rglob("*")):
        if path.is_file():
            print(f"{path.relative_to(out)}  {path.stat().st_size} bytes  sha256 {sha256(path)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=".ci/release.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("version", help="print pyproject.toml's version")
    setter = sub.add_parser("set-version", help="write a new version everywhere")
    setter.add_argument("new")
    checker = sub.add_parser("check-version", help="fail if any copy of the version (or the tag) differs")
    checker.add_argument("--tag", help="the tag being released (v1.2.0 or refs/tags/v1.2.0)")
    sub.add_parser("notes", help="print this version's section of CHANGELOG.md")
    builder = sub.add_parser("build", help="build the sdist, the wheel, the bundle and the registry entry")
    builder.add_argument("out", type=Path)
    builder.add_argument("--python", action="store_true", help="only the sdist and the wheel")
    builder.add_argument("--bundle", action="store_true", help="only the bundle and server.json")
    args = parser.parse_args(argv)
    try:
        if args.command == "version":
            print(version())
        elif args.command == "set-version":
            set_version(args.new)
            print(f"version {args.new}: " + ", ".join(versions()))
        elif args.command == "check-version":
            wrong = differences(tag=args.tag)
            for line in wrong:
                print(line, file=sys.stderr)
            if wrong:
                return 1
            print(f"every copy is {version()}")
        elif args.command == "notes":
            print(notes(), end="")
        else:
            both = not (args.python or args.bundle)
            build(args.out.resolve(), python=both or args.python, bundle=both or args.bundle)
    except ReleaseError as exc:
        print(f".ci/release.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
