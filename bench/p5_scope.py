"""P5: `hotfix scope` on a big repository against `git diff --numstat` on the same range.

The fair comparison is in-process: services.scope(ctx, key) (what `hotfix scope`
runs once the interpreter is up: read the hotfix row, resolve the branch tip,
diff --raw --numstat -M, count commits; every git call a subprocess) against one
`git diff --numstat base head` subprocess started from Python. Both are warmed up
once (page cache, GitPython import) and then alternate. The whole CLI
(`python -m hotfix_tui scope HF-1 --json`, interpreter start and imports included)
is timed too, for information.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, alternate, child_env, median

from hotfix_tui import services


def _git_numstat(repo: Path, base: str, head: str) -> int:
    out = subprocess.run(["git", "diff", "--numstat", base, head], cwd=repo,
                         capture_output=True, check=True).stdout
    return out.count(b"\n")


def measure(repo: Path, db: Path, info: dict, runs: int) -> dict:
    ctx = services.open_context(repo=repo, db=db)
    report = services.scope(ctx, "HF-1")
    files = _git_numstat(repo, info["base"], info["head"])
    if report.files_changed != info["changed"]:
        raise RuntimeError(f"scope saw {report.files_changed} files, expected {info['changed']}")
    scope_t, git_t = alternate(runs, lambda: services.scope(ctx, "HF-1"),
                               lambda: _git_numstat(repo, info["base"], info["head"]))
    cli_t = []
    argv = [sys.executable, "-m", "hotfix_tui", "--repo", str(repo), "--db", str(db), "scope",
            "HF-1", "--json"]
    for _ in range(max(1, runs // 3)):
        t = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, env=child_env(), capture_output=True, check=True)
        cli_t.append(time.perf_counter() - t)
    return {
        "value": median(scope_t), "baseline": median(git_t),
        "ratio": median(scope_t) / median(git_t),
        "cli_s": median(cli_t), "cli_ratio": median(cli_t) / median(git_t),
        "scope_s": scope_t, "git_s": git_t, "numstat_files": files,
        "commits": report.commits, "lines": report.insertions + report.deletions,
    }
