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
SOURCES = ("server", "tools", "testbench")
SOURCE_FILES = {p.name for base in (*SOURCES, ".ci") for p in (ROOT / base).rglob("*.py")}
SOURCE_DIRS = {p.name for base in SOURCES for p in (ROOT / base).rglob("*") if p.is_dir()}


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


@pytest.mark.parametrize("doc", [*DOCS, ROOT / "pyproject.toml"], ids=lambda p: p.name)
def test_named_files_and_folders_exist(doc: Path) -> None:
    text = _text(doc)
    files = set(re.findall(r"\b([a-z_][a-z0-9_]*\.py)\b", text))
    paths = set(re.findall(r"\b((?:server|tools|testbench|tests)/[\w./-]*\w)", text))
    folders = set(re.findall(r"^\s+([a-z_]+)/\s", text, flags=re.MULTILINE))
    assert sorted(f for f in files if f not in SOURCE_FILES and not any((ROOT / "tests").rglob(f))) == []
    paths -= {"tools/list", "tools/call"}  # MCP methods, not folders
    assert sorted(p for p in paths if not (ROOT / p).exists()) == []
    assert sorted(d for d in folders if d not in SOURCE_DIRS | {"tests"}) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_named_commands_exist(doc: Path) -> None:
    named = set(re.findall(r"mvsep-mcp ([a-z][a-z-]*)\b", _text(doc)))
    assert sorted(named - _subcommands()) == []


def _drawn_error_tree() -> dict[str, tuple[str | None, str]]:
    """ARCHITECTURE.md's error tree: each class with its parent (by indentation) and the module named beside it."""
    text = _text(ROOT / "ARCHITECTURE.md")
    block = text.split("## Error tree", 1)[1].split("```", 2)[1]
    drawn: dict[str, tuple[str | None, str]] = {}
    parents: list[str] = []
    for line in block.strip("\n").splitlines():
        found = re.match(r"^([│├└─\s]*)([A-Z]\w+)\s+(mvsep_mcp[\w.]*)\s", line)
        assert found, f"an error tree line that names no class and module: {line!r}"
        depth = len(found.group(1)) // 4
        del parents[depth:]
        drawn[found.group(2)] = (parents[-1] if parents else None, found.group(3))
        parents.append(found.group(2))
    return drawn


def _error_classes() -> dict[str, tuple[str | None, str]]:
    """Every public subclass of ``UserError`` in the product (each module imported), with its parent and module."""
    import pkgutil

    import mvsep_mcp
    import mvsep_mcp_tools
    from mvsep_mcp.errors import UserError

    for package in (mvsep_mcp, mvsep_mcp_tools):  # the product's tree (the test bench's errors are its own)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    found: dict[str, tuple[str | None, str]] = {UserError.__name__: (None, UserError.__module__)}
    pending = [UserError]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub.__name__.startswith("_"):
                continue
            parent = next(base for base in sub.__bases__ if issubclass(base, UserError))
            found[sub.__name__] = (parent.__name__, sub.__module__)
            pending.append(sub)
    return found


def test_the_error_tree_is_drawn_once_and_equals_the_code() -> None:
    drawn = _drawn_error_tree()
    assert drawn == _error_classes()
    branch = re.compile(r"[├└]── (" + "|".join(drawn) + r")\b")
    copies = [str(path.relative_to(ROOT)) for base in ("server", "tools") for path in (ROOT / base).rglob("*.py")
              if branch.search(path.read_text(encoding="utf-8"))]
    assert copies == [], "the error tree is drawn in ARCHITECTURE.md only"


def test_the_module_map_names_every_package_and_top_level_module() -> None:
    block = _text(ROOT / "ARCHITECTURE.md").split("## Module map", 1)[1].split("```", 2)[1]
    named = set(re.findall(r"\b([a-z_]+)/", block)) | set(re.findall(r"\b(\w+\.py)\b", block))
    missing = []
    for root in (ROOT / "server" / "mvsep_mcp", ROOT / "tools" / "mvsep_mcp_tools",
                 ROOT / "testbench" / "mvsep_mcp_testbench"):
        packages = {p.parent.relative_to(root).parts[-1] + "/" for p in root.rglob("__init__.py") if p.parent != root}
        modules = {p.name for p in root.glob("*.py")}
        missing += sorted(name for name in packages if name[:-1] not in named)
        missing += sorted(name for name in modules if name not in named)
    assert missing == []
