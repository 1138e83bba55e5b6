"""The shape of the code: layers (lint-imports), no import cycles, small modules, simple
functions. docs/ARCHITECTURE.md explains the rules these tests keep."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "hotfix_tui"
MAX_LINES = 500
MAX_COMPLEXITY = 15


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


# ---- import cycles ------------------------------------------------------------------------

def _cycles(package: str) -> list[list[str]]:
    """Every group of modules of `package` that import each other in a circle (Tarjan's
    strongly connected components over grimp's graph, which counts imports inside
    functions too: an import moved into a function to dodge a cycle is still one)."""
    graph = grimp.build_graph(package, cache_dir=None)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1 or node in edges.get(node, ()):
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_no_module_of_the_package_imports_itself_in_a_circle():
    assert _cycles("hotfix_tui") == []


def test_the_cycle_check_finds_a_circle_hidden_in_a_function(tmp_path, monkeypatch):
    pkg = tmp_path / "circled"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def late():\n    from . import a\n    return a\n")
    (pkg / "c.py").write_text("from . import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _cycles("circled") == [["circled.a", "circled.b"]]


# ---- imports inside functions ---------------------------------------------------------

def _local_imports(path: Path) -> list[tuple[int, str]]:
    """Imports of the package's own modules made inside a function of `path`: (line,
    what), `from .. import gitops` as `..gitops`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "")
                                                     .startswith("hotfix_tui")):
                base = "." * node.level + (node.module or "")
                if node.module is None:  # `from .. import a, b`: each name is a module
                    out += [(node.lineno, base + a.name) for a in node.names]
                else:
                    out.append((node.lineno, base))
            elif isinstance(node, ast.Import) and any(a.name.startswith("hotfix_tui")
                                                      for a in node.names):
                out.append((node.lineno, node.names[0].name))
    return out


# Outside cli/, a module is imported late only to keep a path from loading what it never
# runs: a CLI read that starts like a Unix tool, the console's first frame. Each one is
# named here; a new one must be added on purpose. (The cycle test above reads these
# imports too: none of them can hide a circle.)
DEFERRED = {
    # the chain's anchor runs git and writes only when a commit extended the chain
    "hotfix_tui/anchor.py": {".gitaccess", ".store"},
    # reads reap lost runs; only a finished run's worktree removal needs git
    "hotfix_tui/deploy/lifecycle.py": {"..gitops"},
    # every read reaps lost runs: the run lifecycle loads only when something runs
    "hotfix_tui/services/reaping.py": {"..deploy.lifecycle"},
    # notices and the commit identity: git is loaded only if a git command ran
    "hotfix_tui/services/context.py": {"..gitaccess"},
    # `status` and the locks run no git; only `adopt` resolves a ref
    "hotfix_tui/services/environments.py": {"..gitops", ".hotfixes"},
    # only a pick that came out empty asks why (backport rules, patch ids)
    "hotfix_tui/services/picks.py": {"..patchids", "..core.backport"},
    # the chain's and the signatures' checks load with the deploy rule that reads them
    "hotfix_tui/services/refusals.py": {".integrity", ".signatures"},
    # each screen's module loads when the screen first opens (the first frame needs only
    # the dashboard)
    "hotfix_tui/tui/navigation.py": {".screens.hotfix", ".screens.start",
                                     ".screens.incident", ".screens.deploy",
                                     ".screens.review", ".screens.history",
                                     ".screens.commandlog"},
    # the dashboard's dialogs and run flows load when a key opens one, not before the
    # console's first frame
    "hotfix_tui/tui/screens/dashboard.py": {"..flows.runs", "..widgets.confirm",
                                            "..widgets.incident_form"},
}


def test_only_the_command_line_imports_its_own_modules_late():
    """`hotfix --help` and `hotfix list --json` stay fast because each command imports
    what it needs when it runs; outside the command line, only the deferrals named in
    DEFERRED (each keeps a read path or the first frame from loading code it never
    runs)."""
    late = {str(p.relative_to(ROOT)): _local_imports(p) for p in _sources()
            if p.parent.name != "cli"}
    unnamed = {p: [(line, what) for line, what in found if what not in DEFERRED.get(p, ())]
               for p, found in late.items()}
    assert {p: found for p, found in unnamed.items() if found} == {}
    stale = {p: names - {what for _, what in late.get(p, [])} for p, names in DEFERRED.items()}
    assert {p: names for p, names in stale.items() if names} == {}, "no longer late"


def test_the_late_import_check_sees_one(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from .services import runs\n    from .. import a, b\n")
    assert _local_imports(f) == [(2, ".services"), (3, "..a"), (3, "..b")]


def test_cli_list_does_not_load_the_console():
    code = (
        "import sys\n"
        "from hotfix_tui.cli import main\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'git', 'sqlite_utils'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == ""


# ---- start-up cost ------------------------------------------------------------------------

def _undocumented_dataclasses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ClassDef) and ast.get_docstring(node) is None and any(
                _name(d.func if isinstance(d, ast.Call) else d) == "dataclass"
                for d in node.decorator_list):
            found.append(node.name)
    return found


def _name(node: ast.expr) -> str:
    return getattr(node, "id", "") or getattr(node, "attr", "")


def test_every_dataclass_has_a_docstring():
    """A dataclass without one makes Python build its signature with `inspect` at import
    to write one (~0.2 ms each): every command and the console pay it before doing
    anything (bench P7, P10, P1)."""
    found = {str(p.relative_to(ROOT)): _undocumented_dataclasses(p) for p in _sources()}
    assert {p: names for p, names in found.items() if names} == {}


def test_the_docstring_check_sees_a_dataclass_without_one(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("@dataclass(frozen=True)\nclass A:\n    x: int\n\n"
                 "@dataclass\nclass B:\n    \"\"\"B.\"\"\"\n\n    x: int\n\n"
                 "@dataclasses.dataclass\nclass C:\n    x: int\n")
    assert _undocumented_dataclasses(f) == ["A", "C"]


# ---- size and complexity ----------------------------------------------------------------

def test_no_module_is_over_500_lines():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
             for p in _sources()}
    assert {p: n for p, n in sizes.items() if n > MAX_LINES} == {}


def _complex(path: Path) -> list[str]:
    out = []
    for block in cc_visit(path.read_text(encoding="utf-8")):
        for item in [block, *getattr(block, "methods", [])]:
            if item.complexity > MAX_COMPLEXITY:
                out.append(f"{item.name}:{item.lineno} ({item.complexity})")
    return sorted(set(out))


def test_no_function_is_over_complexity_15():
    found = {str(p.relative_to(ROOT)): _complex(p) for p in _sources()}
    assert {p: f for p, f in found.items() if f} == {}


def test_the_complexity_check_counts_branches(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n"
                                         for i in range(16)) + "    return -1\n")
    assert _complex(f) == ["f:1 (17)"]


# ---- the layers contracts can fail --------------------------------------------------------

def test_lint_imports_refuses_textual_in_the_core(tmp_path):
    """The contracts in pyproject.toml are live: a copy of the package whose core imports
    textual is refused by lint-imports (the same command the README's test command runs)."""
    shutil.copytree(PACKAGE, tmp_path / "hotfix_tui",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    models = tmp_path / "hotfix_tui" / "core" / "models.py"
    models.write_text(models.read_text(encoding="utf-8") + "\nimport textual  # noqa\n",
                      encoding="utf-8")
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run([str(lint), "--no-cache"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "hotfix_tui.core.models -> textual" in proc.stdout
    kept = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert kept.returncode == 0, kept.stdout
