"""The house rules that a reader cannot see at a glance: no import cycles, one error root, lint and types clean."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"mvsep_mcp": ROOT / "server" / "mvsep_mcp", "mvsep_mcp_tools": ROOT / "tools" / "mvsep_mcp_tools"}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in PACKAGES.values():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder.parent).with_suffix("").parts
            module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[module] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """Modules of ours that ``module`` imports (at any depth of its code), outside ``if TYPE_CHECKING``."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in known else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in found if name in known and name != module}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def strong(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                strong(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in graph:
        if node not in index:
            strong(node)
    return out


def test_no_import_cycles() -> None:
    modules = _modules()
    graph = {name: _imports(path, name, set(modules)) for name, path in modules.items()}
    assert _cycles(graph) == []


def _import_time_imports(path: Path, module: str, known: set[str]) -> set[str]:
    """What importing ``module`` imports at once: its module-level imports (outside ``if TYPE_CHECKING``), each with
    the packages above it, whose ``__init__`` runs first (``import a.b.c`` runs ``a/b/__init__``)."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                if not _is_type_checking(node):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                targets = (f"{base}.{alias.name}" for alias in node.names)
                found.update(target if target in known else base for target in targets)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    with_packages: set[str] = set()
    for name in found & known:
        parts = name.split(".")
        with_packages.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return {name for name in with_packages & known if name != module and not module.startswith(name + ".")}


def test_every_module_imports_first() -> None:
    """No cycle at import time, package ``__init__`` files included: any module may be the first one imported (a
    cycle through a package's ``__init__`` fails with "partially initialized module" only in some import orders)."""
    modules = _modules()
    graph = {name: _import_time_imports(path, name, set(modules)) for name, path in modules.items()}
    assert _cycles(graph) == []


def test_domain_knows_nothing_of_mcp_or_tools() -> None:
    """Only the wiring (app, cli, demo, bench, the fault suite) may import the SDK's server side or the tools
    package."""
    wiring = {"mvsep_mcp.app", "mvsep_mcp.cli", "mvsep_mcp.demo", "mvsep_mcp.__main__", "mvsep_mcp.doctor",
              "mvsep_mcp.hosting", "mvsep_mcp.sse_resume",
              "mvsep_mcp.http_guards"}
    offenders = []
    for name, path in _modules().items():
        outside = not name.startswith("mvsep_mcp.") or name.startswith(
            ("mvsep_mcp.bench", "mvsep_mcp.sandbox", "mvsep_mcp.faults_report"))
        if outside or name in wiring:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        if any(m.split(".")[0] in ("mcp", "mvsep_mcp_tools") for m in imported):
            offenders.append(name)
    assert offenders == []


def test_one_error_root_outside_the_sandbox() -> None:
    """Every exception class of ours derives from ``UserError`` (the sandbox and private helpers aside)."""
    from mvsep_mcp.errors import UserError

    roots = []
    for name, path in _modules().items():
        if ".sandbox" in name:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                if bases & {"Exception", "BaseException"}:
                    roots.append(f"{name}.{node.name}")
    assert roots == [f"mvsep_mcp.errors.{UserError.__name__}"]


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        pytest.skip(f"{name} is not installed (it comes with the [dev] extra)")
    return path


def test_ruff_clean() -> None:
    run = subprocess.run([_tool("ruff"), "check", "server", "tools", "tests"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy_strict_clean() -> None:
    """Strict types over the package, and the test fake checked against the jobs layer's client Protocol."""
    run = subprocess.run([_tool("mypy"), "server", "tools", "tests/jobs/fake_mvsep.py"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


LAYERS = [  # lowest first: a module imports only from its own layer or lower (ARCHITECTURE.md, "Who may import whom")
    {"mvsep_mcp", "mvsep_mcp.errors", "mvsep_mcp.policy", "mvsep_mcp.logs", "mvsep_mcp.hosted"},  # hosted: its leaves
    {"mvsep_mcp.mvsep"},
    {"mvsep_mcp.catalog", "mvsep_mcp.media", "mvsep_mcp.daw"},
    {"mvsep_mcp.config", "mvsep_mcp.jobs", "mvsep_mcp.daw.from_jobs", "mvsep_mcp.daw.player",  # daw that reads jobs
     "mvsep_mcp.daw.recorded", "mvsep_mcp.daw.made"},
    {"mvsep_mcp.session"},
    {"mvsep_mcp.planning", "mvsep_mcp.hosted.accounts", "mvsep_mcp.hosted.web", "mvsep_mcp.hosted.metrics"},
    {"mvsep_mcp_tools"},
    {"mvsep_mcp.app", "mvsep_mcp.demo", "mvsep_mcp.__main__", "mvsep_mcp.cli", "mvsep_mcp.bench", "mvsep_mcp.doctor",
     "mvsep_mcp.faults_report", "mvsep_mcp.hosting", "mvsep_mcp.sse_resume",
     "mvsep_mcp.http_guards", "mvsep_mcp.stopping"},
]


def _layer(module: str) -> int | None:
    for depth in range(module.count(".") + 1, 0, -1):
        prefix = ".".join(module.split(".")[:depth])
        for index, layer in enumerate(LAYERS):
            if prefix in layer:
                return index
    return None


def test_layers_import_only_downwards() -> None:
    modules = _modules()
    wrong = []
    for name, path in modules.items():
        if name.startswith("mvsep_mcp.sandbox"):
            allowed = {n for n in _imports(path, name, set(modules)) if not n.startswith(("mvsep_mcp.sandbox",))}
            wrong += [f"{name} -> {n}" for n in allowed if n not in ("mvsep_mcp.policy", "mvsep_mcp")]
            continue
        mine = _layer(name)
        assert mine is not None, f"{name} is in no layer: add it to LAYERS and ARCHITECTURE.md"
        for target in _imports(path, name, set(modules)):
            theirs = _layer(target)
            if target.startswith("mvsep_mcp.sandbox"):
                theirs = len(LAYERS) - 1 if mine == len(LAYERS) - 1 else None
            if theirs is None or theirs > mine:
                wrong.append(f"{name} -> {target}")
    assert wrong == []
