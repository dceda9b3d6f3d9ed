"""The house rules that a reader cannot see at a glance: no import cycles, one error root, lint and types clean."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"mvsep_mcp": ROOT / "server" / "mvsep_mcp", "mvsep_mcp_tools": ROOT / "tools" / "mvsep_mcp_tools",
            "mvsep_mcp_testbench": ROOT / "testbench" / "mvsep_mcp_testbench"}


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


WIRING = ("mvsep_mcp.app", "mvsep_mcp.cli", "mvsep_mcp.__main__", "mvsep_mcp.doctor", "mvsep_mcp.serving")


def test_domain_knows_nothing_of_mcp_or_tools() -> None:
    """Only the wiring (app, cli, doctor, the serving package) may import the SDK's server side or the tools package;
    the test bench (mvsep_mcp_testbench) drives the server as a host would."""
    offenders = []
    for name, path in _modules().items():
        if not name.startswith("mvsep_mcp.") or _unit(name) in WIRING:
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
        if name.startswith("mvsep_mcp_testbench.sandbox"):
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
    run = subprocess.run([_tool("ruff"), "check", "server", "tools", "testbench", "tests"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy_strict_clean() -> None:
    """Strict types over the package, and the test fake checked against the jobs layer's client Protocol."""
    run = subprocess.run([_tool("mypy"), "server", "tools", "testbench", "tests/jobs/fake_mvsep.py"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


LAYERS = [  # whole packages (a root module is a package of its own), lowest first: a module imports only from its own
    # layer or lower (ARCHITECTURE.md, "Who may import whom"). The root's leaves: errors, policy, logs, system, ...
    {"mvsep_mcp", "mvsep_mcp.hosted"},
    {"mvsep_mcp.mvsep"},
    {"mvsep_mcp.catalog", "mvsep_mcp.media", "mvsep_mcp.daw"},
    {"mvsep_mcp.config", "mvsep_mcp.jobs"},
    {"mvsep_mcp.results"},  # a finished job's files joined with the DAW: sessions, the stem player, DJ stems, mixes
    {"mvsep_mcp.session"},
    {"mvsep_mcp.planning"},
    {"mvsep_mcp_tools"},
    {"mvsep_mcp.app", "mvsep_mcp.serving", "mvsep_mcp.doctor"},
    {"mvsep_mcp_testbench"},  # the test bench drives the product from above; its sandbox stands apart (below)
    {"mvsep_mcp.cli", "mvsep_mcp.__main__"},  # the command line, whose sandbox, demo, bench and faults run the bench
]
SANDBOX = "mvsep_mcp_testbench.sandbox"  # an MVSep stand-in: imports nothing of the product but its policy


def _unit(module: str) -> str:
    """The package a module belongs to for layering and cycles: ``mvsep_mcp.jobs.journal.sql`` is ``mvsep_mcp.jobs``,
    a root module (``mvsep_mcp.session``) its own, ``mvsep_mcp_tools.*`` one unit."""
    parts = module.split(".")
    if parts[0] == "mvsep_mcp_tools":
        return parts[0]
    return ".".join(parts[:2])


def _layer(module: str) -> int | None:
    unit = _unit(module)
    for index, layer in enumerate(LAYERS):
        if unit in layer or (unit.split(".")[0] in layer and unit.split(".")[0] != "mvsep_mcp"):
            return index
    return 0 if unit.startswith("mvsep_mcp.") and _is_leaf(unit) else None


def _is_leaf(unit: str) -> bool:
    """A root module named in no layer is a leaf of the root (errors, policy, logs, system, matching, memory, glibc)."""
    return (PACKAGES["mvsep_mcp"] / (unit.split(".", 1)[1] + ".py")).exists()


def test_layers_import_only_downwards() -> None:
    modules = _modules()
    wrong = []
    for name, path in modules.items():
        imported = _imports(path, name, set(modules))
        if name.startswith(SANDBOX):
            wrong += [f"{name} -> {n}" for n in imported
                      if not n.startswith(SANDBOX) and n not in ("mvsep_mcp.policy", "mvsep_mcp")]
            continue
        mine = _layer(name)
        assert mine is not None, f"{name} is in no layer: add its package to LAYERS and ARCHITECTURE.md"
        for target in imported:
            theirs = _layer(target)
            if theirs is None or theirs > mine:
                wrong.append(f"{name} -> {target}")
    assert wrong == []


def test_no_cycle_between_packages() -> None:
    """Between the packages (subpackages of the roots, and root modules), imports anywhere in a module, functions
    included (``TYPE_CHECKING`` aside), form no cycle: no import is put in a function to dodge one."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph.setdefault(_unit(name), set()).update(
            _unit(target) for target in _imports(path, name, set(modules)) if _unit(target) != _unit(name))
    for targets in list(graph.values()):
        for target in targets:
            graph.setdefault(target, set())
    assert _cycles(graph) == []


# Module names a reader can tell apart: two modules share a name only where they play the same part in parallel
# packages. Each of these says why.
PARALLEL_NAMES = {
    "errors.py": "each package's branch of the error tree",
    "models.py": "each package's typed data (MVSep's answers; the journal's jobs)",
    "suggestions.py": "each domain's completions (models; the caller's jobs and stems)",
    "chains.py": "a chain of models as planned (planning) and as run (jobs)",
}


def test_no_two_modules_share_a_name() -> None:
    seen: dict[str, list[str]] = {}
    for name, path in _modules().items():
        if path.name not in ("__init__.py", "__main__.py"):
            seen.setdefault(path.name, []).append(name)
    shared = {file: names for file, names in seen.items() if len(names) > 1 and file not in PARALLEL_NAMES}
    assert shared == {}
