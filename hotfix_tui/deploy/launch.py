"""Starting a detached runner, and waiting for a run to end.

`spawn()` starts `python -m hotfix_tui.deploy.runner --db PATH --deploy ID [--repo DIR]`
detached (see detach.py): closing the terminal, losing the SSH session or killing the
caller does not touch it.
"""

from __future__ import annotations

import os
import time

from ..core.errors import HotfixError
from ..core.models import Deploy
from ..detach import spawn_module
from ..store import open_store
from ..store.runs import deploy_from_row, run_row
from .lifecycle import effective_status, worktree_settled

SETTLE_S = 5.0  # how long a caller waits for the runner to remove a finished run's worktree


def spawn(db_path: str | os.PathLike, deploy_id: int,
          repo: str | os.PathLike | None = None) -> None:
    """Start the runner for `deploy_id`, fully detached from this process (see detach.py).
    `repo` is the checkout whose `.hotfix.toml` names the hooks to run when the run ends."""
    db = os.path.abspath(os.fspath(db_path))
    args = ["--db", db, "--deploy", str(int(deploy_id))]
    if repo is not None:
        args += ["--repo", os.path.abspath(os.fspath(repo))]
    status = spawn_module("hotfix_tui.deploy.runner", *args)
    if status != 0:
        raise HotfixError(f"cannot start the runner for D-{deploy_id} (exit status {status})")


def wait_finished(db_path: str | os.PathLike, deploy_id: int, timeout: float | None,
                  poll: float = 0.05) -> Deploy:
    """Poll until the run is no longer running (a dead runner counts as finished:
    `interrupted`); TimeoutError after `timeout` seconds (None: wait as long as it takes)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    store = open_store(db_path, create=False)
    try:
        while True:
            row = run_row(store, deploy_id)
            status = effective_status(row)
            if status.finished:
                settle(store, deploy_id)
                return deploy_from_row(row, status)
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"{row['key']} still running after {timeout:g}s")
            time.sleep(poll)
    finally:
        store.close()


def settle(store, deploy_id: int, timeout: float = SETTLE_S, poll: float = 0.02) -> None:
    """After a run finished, wait (a moment, at most `timeout`) for its runner to remove
    the run's worktree, so that whoever waited for the run finds the repository as the
    run leaves it."""
    deadline = time.monotonic() + timeout
    while not worktree_settled(run_row(store, deploy_id)) and time.monotonic() < deadline:
        time.sleep(poll)
