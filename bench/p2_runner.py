"""P2: lines per second the detached runner persists for a command that floods stdout.

The runner is the real one (insert_run + spawn + wait_finished); the rate is the
command's lines over the wall time from spawn to the run being finished. The
baseline is a plain Python loop inserting the same lines into deploy_lines of a
database made by open_store (same schema, WAL and synchronous=FULL), with
executemany in transactions of 1 000. Each pair runs on fresh databases.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from common import median

from hotfix_tui.clock import iso, utcnow
from hotfix_tui.deploy.runner import INSERT_LINES, spawn, wait_finished
from hotfix_tui.store import open_store
from hotfix_tui.store.runs import insert_run

FLOOD = "import sys; w=sys.stdout.write; [w(f'line {{i}}\\n') for i in range({n})]"
ENDLESS = ("import itertools, sys; w=sys.stdout.write; "
           "[w(f'line {i}\\n') for i in itertools.count()]")


def start_run(db: Path, argv: list[str], workdir: Path, env: str = "bench",
              max_log_bytes: int = 64 << 20, timeout_s: float = 600) -> int:
    store = open_store(db)
    try:
        with store.write():
            row = insert_run(store, env=env, kind="deploy", argv=argv, workdir=str(workdir),
                             started_by="bench", started_by_verified=True,
                             started_at=iso(utcnow()), timeout_s=timeout_s,
                             max_log_bytes=max_log_bytes)
        return int(row["id"])
    finally:
        store.close()


def runner_once(db: Path, n: int, workdir: Path) -> float:
    """Seconds from spawn to finished for a command printing `n` lines."""
    deploy_id = start_run(db, [sys.executable, "-c", FLOOD.format(n=n)], workdir)
    started = time.monotonic()
    spawn(db, deploy_id)
    run = wait_finished(db, deploy_id, timeout=600, poll=0.005)
    elapsed = time.monotonic() - started
    store = open_store(db, create=False)
    try:
        stored = store.scalar("SELECT count(*) FROM deploy_lines WHERE deploy_id = ? AND "
                              "stream = 'out'", (deploy_id,))
    finally:
        store.close()
    if str(run.status) != "succeeded" or stored != n:
        raise RuntimeError(f"runner stored {stored} of {n} lines; run {run.status}")
    return elapsed


def baseline_once(db: Path, n: int) -> float:
    """Seconds for a plain loop: executemany in transactions of 1 000 lines."""
    store = open_store(db)
    conn = store.conn
    now = iso(utcnow())
    with store.write():
        store.execute(
            "INSERT INTO deploys (id, key, env, kind, status, started_by, started_by_verified, "
            "started_at, finished_at) VALUES (1, 'D-1', 'bench', 'deploy', 'succeeded', "
            "'bench', 1, ?, ?)", (now, now))
    started = time.monotonic()
    for first in range(1, n + 1, 1000):
        last = min(n, first + 999)
        at = iso(utcnow())
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT_LINES, [(1, seq, "out", at, f"line {seq - 1}", 0)
                                        for seq in range(first, last + 1)])
        conn.execute("COMMIT")
    elapsed = time.monotonic() - started
    store.close()
    return elapsed


def measure(work: Path, n: int, runs: int) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    base_t, run_t = [], []
    for i in range(runs):
        base_t.append(baseline_once(work / f"base-{i}.db", n))
        run_t.append(runner_once(work / f"runner-{i}.db", n, work))
        for name in (f"base-{i}.db", f"runner-{i}.db"):
            for suffix in ("", "-wal", "-shm"):
                (work / (name + suffix)).unlink(missing_ok=True)
    rate = n / median(run_t)
    base_rate = n / median(base_t)
    return {
        "value": rate, "baseline": base_rate, "ratio": rate / base_rate,
        "runner_s": run_t, "baseline_s": base_t, "lines": n,
    }
