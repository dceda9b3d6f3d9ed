"""README.md, ARCHITECTURE.md and CONTRIBUTING.md stay true: every module, file and command they name exists."""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

import pytest
from mvsep_mcp.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "ARCHITECTURE.md", ROOT / "CONTRIBUTING.md"]
SOURCE_FILES = {p.name for base in ("server", "tools", ".ci") for p in (ROOT / base).rglob("*.py")}
SOURCE_DIRS = {p.name for base in ("server", "tools") for p in (ROOT / base).rglob("*") if p.is_dir()}


def _text(doc: Path) -> str:
    return doc.read_text(encoding="utf-8")


def _resolves(dotted: str) -> bool:
    """A module, or an attribute of the longest importable module prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def _subcommands() -> set[str]:
    parser = build_parser()
    found: set[str] = set()
    for action in parser._actions:  # argparse keeps subparsers here
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_named_modules_exist(doc: Path) -> None:
    names = set(re.findall(r"\b(mvsep_mcp(?:_tools)?(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\b", _text(doc)))
    missing = sorted(name for name in names if not _resolves(name.rstrip(".")))
    assert missing == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_named_files_and_folders_exist(doc: Path) -> None:
    text = _text(doc)
    files = set(re.findall(r"\b([a-z_][a-z0-9_]*\.py)\b", text))
    paths = set(re.findall(r"\b((?:server|tools|tests)/[\w./-]*\w)", text))
    folders = set(re.findall(r"^\s+([a-z_]+)/\s", text, flags=re.MULTILINE))
    assert sorted(f for f in files if f not in SOURCE_FILES and not any((ROOT / "tests").rglob(f))) == []
    paths -= {"tools/list", "tools/call"}  # MCP methods, not folders
    assert sorted(p for p in paths if not (ROOT / p).exists()) == []
    assert sorted(d for d in folders if d not in SOURCE_DIRS | {"tests"}) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_named_commands_exist(doc: Path) -> None:
    named = set(re.findall(r"mvsep-mcp ([a-z][a-z-]*)\b", _text(doc)))
    assert sorted(named - _subcommands()) == []
