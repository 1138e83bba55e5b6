"""P10: the CLI as scripts and shells use it, on the 100 000-hotfix database: the first page
of `hotfix list --json`, a full-text `hotfix history … --json`, and one Tab of shell
completion on hotfix keys, each a real `hotfix` process, against `hotfix --version` (the
interpreter, click and the root command: what any command pays before it loads its own
module and does anything). Runs alternate; medians."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from common import alternate, child_env, median

QUERY = ("gift", "card", "state:finished")


def _hotfix(repo: Path, *args: str, env: dict | None = None) -> str:
    proc = subprocess.run([sys.executable, "-m", "hotfix_tui", *args], cwd=repo,
                          env={**child_env(), **(env or {})}, capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"hotfix {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def measure(repo: Path, db: Path, runs: int) -> dict:
    listed = json.loads(_hotfix(repo, "--db", str(db), "list", "--json"))
    found = json.loads(_hotfix(repo, "--db", str(db), "history", *QUERY, "--json"))
    tab = {"_HOTFIX_COMPLETE": "bash_complete", "COMP_WORDS": f"hotfix --db {db} show HF-1",
           "COMP_CWORD": "4"}
    candidates = _hotfix(repo, env=tab).split()
    if len(listed["items"]) != 100 or not listed["has_more"] or not candidates:
        raise RuntimeError("the database is not the one P10 expects")
    version, page, search, complete = alternate(
        runs,
        lambda: _hotfix(repo, "--version"),
        lambda: _hotfix(repo, "--db", str(db), "list", "--json"),
        lambda: _hotfix(repo, "--db", str(db), "history", *QUERY, "--json"),
        lambda: _hotfix(repo, env=tab))
    base = median(version)
    worst = max(median(page), median(search), median(complete))
    return {"value": worst, "baseline": base, "ratio": worst / base,
            "version_s": version, "list_s": page, "history_s": search, "complete_s": complete,
            "history_total": found["total"], "candidates": len(candidates)}
