"""Starting a detached runner, and waiting for a run to end.

`spawn()` starts `python -m hotfix_tui.deploy.runner --db PATH --deploy ID` in a new
session through a short-lived intermediate process, so closing the terminal, losing the
SSH session or killing the caller does not touch it and it never becomes the caller's
zombie.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from ..core.errors import HotfixError
from ..core.models import Deploy
from ..store import open_store
from ..store.runs import deploy_from_row, run_row
from .lifecycle import effective_status

_LAUNCH = (
    "import os, sys\n"
    "if os.fork() == 0:\n"
    "    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
    "os._exit(0)\n"
)


def spawn(db_path: str | os.PathLike, deploy_id: int) -> None:
    """Start the runner for `deploy_id`, fully detached from this process.

    An intermediate process (started in a new session) forks the runner and
    exits at once; we reap the intermediate, and the runner is re-parented to
    init. No file descriptor is inherited; stdin, stdout and stderr are /dev/null.
    """
    db = os.path.abspath(os.fspath(db_path))
    argv = [sys.executable, "-I", "-S", "-c", _LAUNCH,
            "-m", "hotfix_tui.deploy.runner", "--db", db, "--deploy", str(int(deploy_id))]
    proc = subprocess.Popen(
        argv,
        cwd=_runner_cwd(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        start_new_session=True,
    )
    proc.wait()
    if proc.returncode != 0:
        raise HotfixError(f"cannot start the runner for D-{deploy_id} "
                          f"(exit status {proc.returncode})")


def _runner_cwd() -> str:
    """Where `-m hotfix_tui…` resolves even when the package is not installed.

    The folder that holds the package, unless that is a site-packages folder
    (putting it first on sys.path could shadow the standard library): then /.
    """
    root = Path(__file__).resolve().parents[2]
    return "/" if root.name in ("site-packages", "dist-packages") else str(root)


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
                return deploy_from_row(row, status)
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"{row['key']} still running after {timeout:g}s")
            time.sleep(poll)
    finally:
        store.close()
