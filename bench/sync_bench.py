"""`hotfix sync` against `git fetch` of the same refs, in the same run (issue 20).

    python bench/sync_bench.py            10,000 events into an empty database, and 10 new
                                          events into a database of 100,000
    python bench/sync_bench.py --quick    1,000 and 10 into 5,000 (the smoke run)
    python bench/sync_bench.py --out FILE also write the results as Markdown

Bastion A (a repository and its database) records its events through the store's own
append (the hash chains are the real ones), shares them with `hotfix sync`; bastion B, a
clone of the bare remote with its own database, syncs them in. The baseline is a third
clone running `git fetch` of refs/hotfix/* at the same moment, so each figure is the
price of turning what git transferred into database rows. Nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hotfix_tui.core.models import Actor  # noqa: E402
from hotfix_tui.store import audit, open_store  # noqa: E402

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "b@example.com",
           "GIT_CONFIG_NOSYSTEM": "1", "HOTFIX_ACTOR": ""}
ACTOR = Actor(name="alice", os_account="alice", verified=True)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True,
                          capture_output=True, text=True).stdout.strip()


def hotfix(repo: Path, *args: str) -> float:
    """One `hotfix` command as a user runs it (a new process); its wall time."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hotfix_tui", *args], cwd=repo, env=GIT_ENV,
                   check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def fetch(clone: Path) -> float:
    started = time.perf_counter()
    git(clone, "fetch", "-q", "origin", "+refs/hotfix/*:refs/hotfix/*")
    return time.perf_counter() - started


def append(db: Path, n: int, start: int) -> None:
    """n events on one incident, in transactions of 1,000, through audit.append."""
    with open_store(db) as store:
        if store.scalar("SELECT count(*) FROM incidents") == 0:
            with store.write():
                store.insert("incidents", {"id": 1, "key": "INC-1", "title": "Bench",
                                           "severity": 2, "status": "open",
                                           "opened_by": "alice", "opened_by_verified": 1,
                                           "opened_at": "2026-01-01T00:00:00.000Z"})
                audit.append(store, ACTOR, "2026-01-01T00:00:00.000Z", "incident", "INC-1",
                             "incident.opened", after={"status": "open"}, incident="INC-1")
        for first in range(start, start + n, 1000):
            with store.write():
                for i in range(first, min(first + 1000, start + n)):
                    at = f"2026-01-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:" \
                         f"{i % 60:02d}.{i % 1000:03d}Z"
                    audit.append(store, ACTOR, at, "incident", "INC-1", "incident.note",
                                 after={"note": f"note {i}: p99 latency and error rate"},
                                 incident="INC-1")


def bastions(root: Path) -> tuple[Path, Path, Path]:
    remote = root / "remote.git"
    a = root / "a"
    git(root, "init", "-q", "--bare", "-b", "main", str(remote))
    git(root, "init", "-q", "-b", "main", str(a))
    (a / "README").write_text("bench\n")
    git(a, "add", "README")
    git(a, "commit", "-q", "-m", "start")
    git(a, "remote", "add", "origin", str(remote))
    git(a, "push", "-q", "origin", "main")
    return remote, a, a / ".git" / "hotfix" / "hotfix.db"


def clone(remote: Path, path: Path) -> Path:
    git(remote.parent, "clone", "-q", str(remote), str(path))
    return path


def measure(root: Path, full: int, base: int, small: int, runs: int) -> dict:
    remote, a, a_db = bastions(root)
    out: dict = {}
    # 1. `full` events into an empty database
    append(a_db, full - 1, 1)
    hotfix(a, "sync", "--site", "a")
    syncs, fetches = [], []
    for r in range(runs):
        b = clone(remote, root / f"b{r}")
        syncs.append(hotfix(b, "sync", "--site", f"b{r}"))
        fetches.append(fetch(clone(remote, root / f"f{r}")))
    out["empty"] = (statistics.median(syncs), statistics.median(fetches), syncs, fetches)
    # 2. `small` new events into a database of `base`
    append(a_db, base - full, full)
    hotfix(a, "sync")
    b, f = clone(remote, root / "big-b"), clone(remote, root / "big-f")
    hotfix(b, "sync", "--site", "big")
    fetch(f)
    syncs, fetches = [], []
    for r in range(runs):
        append(a_db, small, base + r * small)
        hotfix(a, "sync")
        fetches.append(fetch(f))
        syncs.append(hotfix(b, "sync"))
    with open_store(b / ".git" / "hotfix" / "hotfix.db") as store:
        held = store.scalar("SELECT count(*) FROM audit_events")
    out["incremental"] = (statistics.median(syncs), statistics.median(fetches), syncs, fetches)
    out["held"] = held
    out["floor"] = statistics.median(hotfix(b, "--version") for _ in range(max(runs, 3)))
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    full, base, small, runs = (1_000, 5_000, 10, 1) if args.quick else \
        (10_000, 100_000, 10, 3)
    with tempfile.TemporaryDirectory(prefix="hotfix-sync-bench-") as tmp:
        r = measure(Path(tmp), full, base, small, runs)
    lines = [
        "| what | `hotfix sync` | `git fetch` of refs/hotfix/* | ratio |",
        "|---|---|---|---|",
        f"| {full:,} events into an empty database | {r['empty'][0]:.2f} s | "
        f"{r['empty'][1]:.3f} s | {r['empty'][0] / r['empty'][1]:.1f}× |",
        f"| {small} new events into a database of {base:,} | {r['incremental'][0]:.2f} s | "
        f"{r['incremental'][1]:.3f} s | {r['incremental'][0] / r['incremental'][1]:.1f}× |",
        "",
        f"Runs (s): empty sync {[round(x, 2) for x in r['empty'][2]]}, fetch "
        f"{[round(x, 3) for x in r['empty'][3]]}; incremental sync "
        f"{[round(x, 2) for x in r['incremental'][2]]}, fetch "
        f"{[round(x, 3) for x in r['incremental'][3]]}. Events held by the big database at "
        f"the end: {r['held']:,}. Medians; each `hotfix sync` is a new process (startup "
        f"included), as a user runs it: `hotfix --version` alone takes {r['floor']:.2f} s "
        "here. The remote is a bare repository on the same disk, so `git fetch` moves no "
        "bytes over a network: over one, both columns grow by the same transfer time.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        args.out.write_text(f"# hotfix sync vs git fetch\n\nWritten by `python "
                            f"bench/sync_bench.py` on {when} (load "
                            f"{os.getloadavg()[0]:.2f}).\n\n{text}\n")


if __name__ == "__main__":
    main()
