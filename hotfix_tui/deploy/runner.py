"""The detached runner: one process per run that outlives whoever started it.

`launch.spawn()` starts this module as a detached process (see launch.py;
cancelling is in cancel.py). The runner then:

- starts the command in its own session and process group;
- reads stdout and stderr on a reader thread, turning bytes into numbered
  lines (see logtext.py), and writes them with executemany every 100 ms,
  with the line count and a heartbeat in the same transaction (a heartbeat
  at least every second even when the command is silent). Under a flood of
  output it leaves a gap after each long transaction so that other writers
  (a cancel, the console) are not starved of the write lock;
- watches the row for a cancel request (on a thread and connection of its
  own, so a large write never delays it) and the clock for the timeout, and
  then stops the whole process group: SIGTERM, SIGKILL after the grace
  period, and SIGKILL again until no process of the group is left (it is a
  child subreaper, so orphans of the command are reaped here, not by init);
- records the outcome through lifecycle.finish_run once every line is
  stored.

A runner that dies is noticed by lifecycle.runner_lost (no heartbeat and
no live pid): its run reads as `interrupted`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sqlite3
import sys

from .. import hooks
from ..clock import iso, utcnow
from ..config import load_config
from ..core.errors import HotfixError
from ..store import open_store
from ..store.db import Store
from ..store.runs import INSERT_LINES, run_row  # noqa: F401  (for the benchmarks)
from .cancel import request_cancel  # noqa: F401  (the deploy API lives here for its callers)
from .launch import spawn, wait_finished  # noqa: F401
from .lifecycle import HOST, release_worktree
from .procgroup import become_subreaper, group_members  # noqa: F401
from .procs import new_marker
from .supervisor import Supervisor


def _claim(store: Store, deploy_id: int) -> sqlite3.Row | None:
    """Record our pid, host, a heartbeat and the marker the command's processes will
    carry (deploy/procs.py); None if the run is not ours to run."""
    now = iso(utcnow())
    with store.write():
        cur = store.execute(
            "UPDATE deploys SET pid = ?, host = ?, heartbeat_at = ?, marker = ? "
            "WHERE id = ? AND status = 'running' AND pid IS NULL",
            (os.getpid(), HOST, now, new_marker(f"D-{deploy_id}"), deploy_id))
        if cur.rowcount != 1:
            return None
        return run_row(store, deploy_id)


def _prepare_signals(runner_holder: list[Supervisor]) -> None:
    """Start from a clean slate (the caller may have blocked or ignored signals,
    which the command would inherit), and turn TERM/INT/HUP into a stop request."""
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    with contextlib.suppress(OSError, ValueError):
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)

    def on_signal(signum: int, frame: object) -> None:
        if runner_holder:
            runner_holder[0].signal_received = signum

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)


def run(db_path: str, deploy_id: int, repo: str | None = None) -> int:
    """The runner's main: supervise run `deploy_id` to its end, then remove its worktree
    (`repo`: the checkout it belongs to). Must run in the main thread."""
    holder: list[Supervisor] = []
    _prepare_signals(holder)
    become_subreaper()
    try:
        store = open_store(db_path, create=False)
    except HotfixError:
        return 2  # no usable store: the run (if any) will read as interrupted
    try:
        try:
            row = _claim(store, deploy_id)
        except HotfixError:
            return 2
        if row is None:
            return 3  # finished already, or another runner has it
        runner = Supervisor(store, row)
        holder.append(runner)
        try:
            return runner.run()
        except Exception as exc:  # the runner must never end silently
            try:
                return runner.fail(exc)
            except Exception:
                return 1  # the store is unusable: the run will read as interrupted
        finally:
            with contextlib.suppress(Exception):
                release_worktree(repo, run_row(store, deploy_id))
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hotfix_tui.deploy.runner",
                                     description="Supervise one deploy, verify or rollback run.")
    parser.add_argument("--db", required=True, help="path of the hotfix database")
    parser.add_argument("--deploy", required=True, type=int, help="the run's number (D-n)")
    parser.add_argument("--repo", default=None,
                        help="the checkout whose .hotfix.toml names the hooks to run")
    args = parser.parse_args(argv)
    code = run(args.db, args.deploy, args.repo)
    _tell(args.db, args.repo)
    return code


def _tell(db_path: str, repo: str | None) -> None:
    """Deliver the events of the run's end (and any missed before) to their hooks."""
    if repo is None:
        return
    with contextlib.suppress(Exception):
        hooks.kick(db_path, repo, load_config(repo))


if __name__ == "__main__":
    sys.exit(main())
