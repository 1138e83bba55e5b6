"""The hook worker: a detached process that delivers every event to its hooks.

    python -m hotfix_tui.hooks.worker --db PATH [--repo DIR]

Started by kick.py. One worker at a time works on a database (an flock on
`<db>-hooks.lock`); another one started meanwhile leaves at once, and the working one
looks again after letting go of the lock, so nothing queued is left behind. The worker
queues deliveries for new events (hooks from DIR's `.hotfix.toml`), then runs them: in
event order for each hook, different hooks side by side. Each delivery is claimed in the
database just before its command starts; a delivery still running when its worker died is
marked `lost`, never run again.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import socket
import sys
import threading

from ..clock import iso, utcnow
from ..config import Config, load_config
from ..core.errors import HotfixError
from ..store import hooks as deliveries
from ..store import open_store
from ..store.db import Store
from .queue import queue_new
from .run import run_hook

HOST = socket.gethostname()
MAX_ROUNDS = 1000  # a worker leaves after this many rounds; the next command starts another


def lock_path(db_path: str) -> str:
    return f"{db_path}-hooks.lock"


class _Lock:
    """An exclusive flock, taken without waiting. It goes with the process.

    A lock file another account made unreadable is no reason to deliver nothing: then
    workers run side by side, each delivery still claimed once (only the order of one
    hook's deliveries is no longer certain). `hotfix doctor` names such a file.
    """

    def __init__(self, path: str) -> None:
        self.fd: int | None = None
        for flags in (os.O_RDWR | os.O_CREAT, os.O_RDONLY):
            try:
                self.fd = os.open(path, flags, 0o666)
                return
            except OSError:
                continue

    def take(self) -> bool:
        if self.fd is None:
            return True
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)


def work(db_path: str, config: Config, cwd: str) -> None:
    """Deliver until nothing is left (call while holding the lock)."""
    with open_store(db_path, create=False) as store:
        for d in deliveries.running(store):
            if d.host == HOST and not worker_alive(d.pid):
                deliveries.mark_lost(store, d.id, iso(utcnow()))
        while True:
            queue_new(store, config.hooks, cwd)
            batch = deliveries.pending(store)
            if not batch:
                return
            lanes: dict[str, list[deliveries.Delivery]] = {}
            for d in batch:
                lanes.setdefault(d.hook, []).append(d)
            threads = [threading.Thread(target=_lane, args=(db_path, lane))
                       for lane in lanes.values()]
            for t in threads:
                t.start()
            for t in threads:
                t.join()


def worker_alive(pid: int | None) -> bool:
    """Is `pid` a hook worker on this host (not a process that reused its number)?"""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    zombie = stat[stat.rfind(b")") + 2:][:1] == b"Z"
    return not zombie and b"hotfix_tui.hooks.worker" in cmd


def _lane(db_path: str, lane: list[deliveries.Delivery]) -> None:
    """One hook's deliveries, in event order, on a connection of its own."""
    with open_store(db_path, create=False) as store:
        for d in lane:
            _deliver(store, d)


def _deliver(store: Store, d: deliveries.Delivery) -> None:
    if not deliveries.claim(store, d.id, HOST, os.getpid(), iso(utcnow())):
        return
    outcome = run_hook(list(d.argv), d.cwd, d.payload.encode("utf-8"),
                       {"HOTFIX_EVENT": d.event, "HOTFIX_EVENT_SEQ": str(d.seq)}, d.timeout_s)
    deliveries.finish(store, d.id, outcome.status, now=iso(utcnow()),
                      exit_code=outcome.exit_code, signal=outcome.signal,
                      duration_ms=outcome.duration_ms, stderr=outcome.stderr,
                      error=outcome.error)


def _has_work(db_path: str) -> bool:
    with open_store(db_path, create=False) as store:
        return deliveries.has_work(store)


def serve(db_path: str, repo: str | None) -> int:
    config = load_config(repo)
    if not config.hooks.commands:
        return 0
    lock = _Lock(lock_path(db_path))
    for _ in range(MAX_ROUNDS):
        if not lock.take():
            return 0  # the worker holding it looks again before it leaves
        try:
            work(db_path, config, repo or "/")
        finally:
            lock.release()
        # Work queued while we held the lock found it taken and left to us.
        if not _has_work(db_path):
            return 0
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hotfix_tui.hooks.worker",
                                     description="Deliver hotfix events to their hooks.")
    parser.add_argument("--db", required=True, help="path of the hotfix database")
    parser.add_argument("--repo", default=None, help="the checkout whose .hotfix.toml "
                        "names the hooks")
    args = parser.parse_args(argv)
    try:
        return serve(os.path.abspath(args.db), args.repo)
    except HotfixError:
        return 2


if __name__ == "__main__":
    sys.exit(main())
