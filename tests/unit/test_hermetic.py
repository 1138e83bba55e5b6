"""The suite must pass on a fresh clone on a fresh machine: no test, benchmark or script
may name a file that only exists on the machine it was written on (a debug script in
/tmp, something in a home folder). Tests use the repository and their own temporary
directories only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MACHINE_LOCAL = re.compile(r"(^|[\s'\"=:])(/tmp/|/var/tmp/|/root/|/home/|~/)[\w.-]")


def _sources() -> list[Path]:
    return sorted(p for folder in ("tests", "bench", "screenshots", ".ci")
                  for p in (ROOT / folder).rglob("*.py"))


def machine_local_paths(path: Path, root: Path = ROOT) -> list[str]:
    """String literals (f-string parts included) naming such a file; docstrings aside."""
    found = []
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if _is_docstring(tree, node):
            continue
        if MACHINE_LOCAL.search(node.value):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value[:60]!r}")
    return sorted(found, key=lambda h: int(h.split(":")[1]))


def _is_docstring(tree: ast.AST, node: ast.Constant) -> bool:
    for parent in ast.walk(tree):
        body = getattr(parent, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and body[0].value is node):
            return True
    return False


def test_no_source_names_a_file_outside_the_repository_or_its_temporary_dirs():
    found = [hit for p in _sources() for hit in machine_local_paths(p)]
    assert found == []


def test_the_check_finds_a_leftover_debug_file(tmp_path: Path):
    leftover = tmp_path / "test_x.py"
    tmp, root = "/" + "tmp/", "/" + "root/"  # spelled in parts so this file stays clean
    leftover.write_text(f'term.start(f"{{HOTFIX.parent}}/python {tmp}dbg_app.py demo")\n'
                        f'open("{root}notes.txt")\nok = tmp_path / "x"\n')
    hits = [h.split(": ", 1)[1] for h in machine_local_paths(leftover, tmp_path)]
    assert len(hits) == 2 and "dbg_app" in hits[0] and "notes" in hits[1]
