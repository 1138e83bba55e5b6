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
- records the outcome through services.runs.finish_run once every line is
  stored.

A runner that dies is noticed by services.runs.runner_lost (no heartbeat and
no live pid): its run reads as `interrupted`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import selectors
import shlex
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from itertools import chain, repeat

from .. import hooks
from ..clock import iso, utcnow
from ..config import load_config
from ..core.errors import HotfixError, StoreError
from ..core.models import RunStatus
from ..services.runs import HOST, finish_run
from ..store import open_store
from ..store.db import Store
from ..store.runs import INSERT_LINES, run_row
from .cancel import (  # noqa: F401  (the deploy API lives here for its callers)
    _group_members,
    group_members,
    request_cancel,
    stop_lost_group,
)
from .launch import spawn, wait_finished  # noqa: F401
from .logtext import Block, LogBuffer

FLUSH_EVERY = 0.1  # seconds between writes of new lines
WRITE_GAP = 0.11  # after a long write, this long before the next, so others get a turn
LONG_WRITE = 0.05
MAX_TXN_LINES = 100_000  # lines in one transaction (a few hundred ms of holding the lock)
CANCEL_POLL = 0.1  # seconds between looks at the row for a cancel request
HEARTBEAT_EVERY = 0.5  # services.runs expects one at least every second
BATCH_LINES = 100_000  # write early when this many lines wait…
BATCH_BYTES = 8 << 20  # …or this much output
HIGH_WATER_LINES = 400_000  # stop reading (the command blocks) while the store lags this far…
HIGH_WATER_BYTES = 64 << 20  # …or this much output waits in memory
READ_SIZE = 1 << 20
SMALL_READ = 64 * 1024
TRICKLE_WAIT = 0.002
PIPE_SIZE = 1 << 20  # bigger pipes let the command run ahead while a batch is written
EOF_GRACE = 2.0  # after the command exits, how long a background process may keep its output
KILL_GIVE_UP = 30.0  # seconds of SIGKILLs after which surviving processes are reported, not waited
RETRY_FINAL_WRITE = 20  # attempts (about 0.25 s apart) at the last batch when the store is busy

_PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h

# -- the runner process ---------------------------------------------------------------


def _signal_text(n: int) -> str:
    try:
        return f"signal {n} ({signal.Signals(n).name})"
    except ValueError:
        return f"signal {n}"


def _outcome(returncode: int | None) -> str:
    if returncode is None:
        return "exit status unknown"
    if returncode < 0:
        return f"killed by {_signal_text(-returncode)}"
    return f"exit {returncode}"


def _rows(deploy_id: int, blocks: list[Block]) -> Iterable[tuple]:
    """Parameter rows for executemany, built lazily in C (no per-line Python code)."""
    return chain.from_iterable(
        zip(repeat(deploy_id), range(b.first_seq, b.first_seq + len(b.texts)),
            repeat(b.stream), repeat(b.at), b.texts,
            b.flags if b.flags is not None else repeat(0))
        for b in blocks)


class _Runner:
    def __init__(self, store: Store, row: sqlite3.Row) -> None:
        self.store = store
        self.id = int(row["id"])
        self.key = row["key"]
        self.row = row
        self.argv: list[str] = []
        self.env_vars: dict[str, str] = {}
        self.workdir = row["workdir"] or None
        self.timeout_s = float(row["timeout_s"])
        self.grace = float(row["cancel_grace_s"])
        self.buffer = LogBuffer(int(row["max_log_bytes"]), first_seq=int(row["lines"]) + 1)
        self.lock = threading.Lock()
        self.data_ready = threading.Condition(self.lock)
        self.drained = threading.Condition(self.lock)
        self.reader_done = threading.Event()
        self.stop_reading = threading.Event()
        self.open_streams: set[str] = set()
        self.proc: subprocess.Popen | None = None
        self.pgid: int | None = None
        self.signal_received: int | None = None
        # Why the command is being stopped: "cancel", "timeout", "signal" or "lost".
        self.stop_reason: str | None = None
        self.stop_guard = threading.Lock()
        self.stop_detail = ""
        self.kill_at: float | None = None
        self.next_beat = 0.0
        self.write_started = self.write_ended = self.ticked = 0.0
        self.unwritten = 0  # bytes read since the last write (memory held by the buffer)

    # -- the whole run -------------------------------------------------------------
    def run(self) -> int:
        self.argv = [str(a) for a in json.loads(self.row["argv"])]
        self.env_vars = {str(k): str(v)
                         for k, v in json.loads(self.row["env_vars"] or "{}").items()}
        with self.lock:
            self.buffer.sys(f"$ {shlex.join(self.argv)}", iso(utcnow()))
        row = run_row(self.store, self.id)
        if row["cancel_requested_by"] is not None:
            return self._finish(RunStatus.CANCELLED, None,
                                f"cancelled by {row['cancel_requested_by']} before it started")
        try:
            if not self.argv:
                raise FileNotFoundError(2, "empty command")
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.workdir,
                env={**os.environ, **self.env_vars},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            where = exc.filename if exc.filename is not None else (self.argv or [""])[0]
            if self.workdir and where == self.workdir:
                where = f"working directory {where}"
            code = 127 if isinstance(exc, FileNotFoundError) else 126
            return self._finish(RunStatus.FAILED, None,
                                f"cannot start the command: {where}: {exc.strerror or exc}",
                                exit_code=code)
        self.pgid = self.proc.pid
        with self.lock:
            self.buffer.sys(f"started pid {self.proc.pid} (process group {self.pgid}) on "
                            f"{HOST} in {self.workdir or os.getcwd()}", iso(utcnow()))
        with self.store.write():
            self.store.execute("UPDATE deploys SET pgid = ? WHERE id = ?", (self.pgid, self.id))
        self.open_streams = {"out", "err"}
        reader = threading.Thread(target=self._read_loop, name="runner-reader", daemon=True)
        watcher = threading.Thread(target=self._watch_row, name="runner-watch", daemon=True)
        reader.start()
        watcher.start()
        self._supervise()
        self.stop_reading.set()
        reader.join(timeout=5)
        watcher.join(timeout=5)
        return self._conclude()

    def _conclude(self) -> int:
        assert self.proc is not None
        rc = self.proc.poll()
        outcome = _outcome(rc)
        exit_code = rc if rc is not None and rc >= 0 else None
        sig = -rc if rc is not None and rc < 0 else None
        if self.stop_reason == "cancel":
            return self._finish(RunStatus.CANCELLED, sig, f"{self.stop_detail} ({outcome})",
                                exit_code=exit_code)
        if self.stop_reason == "timeout":
            return self._finish(RunStatus.TIMED_OUT, sig, f"{self.stop_detail} ({outcome})",
                                exit_code=exit_code)
        if self.stop_reason == "signal":
            return self._finish(RunStatus.CANCELLED, sig, f"{self.stop_detail} ({outcome})",
                                exit_code=exit_code)
        if self.stop_reason == "lost":
            return self._finish(RunStatus.FAILED, sig, f"{self.stop_detail} ({outcome})",
                                exit_code=exit_code)
        status = RunStatus.SUCCEEDED if rc == 0 else RunStatus.FAILED
        return self._finish(status, sig, outcome, exit_code=exit_code)

    def _finish(self, status: RunStatus, sig: int | None, last_line: str, *,
                exit_code: int | None = None) -> int:
        at = iso(utcnow())
        with self.lock:
            for stream in sorted(self.open_streams):
                self.buffer.close(stream, at)
            self.open_streams.clear()
            note = self.buffer.cap_note()
            if note:
                self.buffer.sys(note, at)
            self.buffer.sys(last_line, at)
        self._write_all()
        finish_run(self.store, self.id, status, exit_code=exit_code, signal=sig, now=at,
                   note=last_line)
        return 0

    # -- reading output (reader thread) ----------------------------------------------
    def _read_loop(self) -> None:
        assert self.proc is not None and self.proc.stdout and self.proc.stderr
        sel = selectors.DefaultSelector()
        try:
            for f, stream in ((self.proc.stdout, "out"), (self.proc.stderr, "err")):
                fd = f.fileno()
                os.set_blocking(fd, False)
                with contextlib.suppress(OSError, AttributeError):
                    import fcntl

                    fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
                sel.register(fd, selectors.EVENT_READ, stream)
            while sel.get_map() and not self.stop_reading.is_set():
                for key, _ in sel.select(0.1):
                    try:
                        data = os.read(key.fd, READ_SIZE)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    at = iso(utcnow())
                    with self.lock:
                        if data:
                            self.buffer.feed(key.data, data, at)
                            self.unwritten += len(data)
                        else:
                            self.buffer.close(key.data, at)
                            self.open_streams.discard(key.data)
                        if self._batch_ready():
                            self.data_ready.notify()
                        while ((self.buffer.pending_lines >= HIGH_WATER_LINES
                                or self.unwritten >= HIGH_WATER_BYTES)
                               and not self.stop_reading.is_set()):
                            self.drained.wait(0.1)
                    if not data:
                        sel.unregister(key.fd)
                    elif len(data) < SMALL_READ:
                        # A trickle (an unbuffered command writes line by line): let it
                        # pool for a moment, so each read carries many lines, not one.
                        time.sleep(TRICKLE_WAIT)
        finally:
            sel.close()
            with self.lock:
                self.reader_done.set()
                self.data_ready.notify()

    # -- supervising (main thread) ----------------------------------------------------
    def _supervise(self) -> None:
        assert self.proc is not None
        started = time.monotonic()
        deadline = started + self.timeout_s if self.timeout_s > 0 else None
        settled_at: float | None = None  # exited, and (if stopping) the group is empty
        settled_stopping = False
        while True:
            self._wait()
            now = time.monotonic()
            rc = self.proc.poll()
            self._tick(now)
            if self.stop_reason is None:
                if self.signal_received is not None:
                    name = signal.Signals(self.signal_received).name
                    self._begin_stop("signal", f"runner received {name}")
                elif deadline is not None and now >= deadline and rc is None:
                    self._begin_stop("timeout", f"timed out after {self.timeout_s:g}s")
            if self.stop_reason is not None and settled_at is not None and not settled_stopping:
                settled_at = None  # cancelled while its output drains: the group must go too
            if self.stop_reason is not None and settled_at is None:
                self._escalate(now)  # never after the group is gone: its number may be reused
            if rc is None:
                if self.kill_at is not None and now - self.kill_at > KILL_GIVE_UP:
                    with self.lock:  # stuck in the kernel (state D): nothing more to do
                        self.buffer.sys(f"the command survived SIGKILL for {KILL_GIVE_UP:g}s; "
                                        "giving up on it", iso(utcnow()))
                    return
                continue
            if settled_at is None:
                if self.stop_reason is not None and self._group_alive():
                    if self.kill_at is not None and now - self.kill_at > KILL_GIVE_UP:
                        with self.lock:
                            self.buffer.sys(f"processes of group {self.pgid} survived SIGKILL "
                                            f"for {KILL_GIVE_UP:g}s; giving up on them",
                                            iso(utcnow()))
                    else:
                        continue
                settled_at, settled_stopping = now, self.stop_reason is not None
            if self.reader_done.is_set():
                return
            if now - settled_at >= EOF_GRACE:
                with self.lock:
                    self.buffer.sys(
                        f"the command exited but a background process still holds its output "
                        f"open; stopped reading after {EOF_GRACE:g}s", iso(utcnow()))
                return

    def _wait(self) -> None:
        """Until the next write is due: FLUSH_EVERY after the last one began, or sooner
        for a large batch, but never within WRITE_GAP of the last one's end. Under a
        flood of output, back-to-back transactions would starve every other writer
        (SQLite's busy handler retries on a timer, with no queue): a cancel, the console."""
        assert self.proc is not None
        long_write = self.write_ended - self.write_started >= LONG_WRITE
        earliest = self.write_ended + (WRITE_GAP if long_write else 0.0)
        due = max(self.ticked + FLUSH_EVERY, earliest)
        with self.lock:
            while not self.reader_done.is_set():
                now = time.monotonic()
                ready = self._batch_ready()
                if now >= due or (ready and now >= earliest):
                    return
                self.data_ready.wait((earliest if ready else due) - now)
        remaining = due - time.monotonic()
        if remaining <= 0:
            return
        if self.proc.returncode is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(remaining)
        else:
            time.sleep(min(remaining, 0.05))

    def _batch_ready(self) -> bool:
        """Enough output waits to write it now rather than at the next tick (lock held)."""
        return self.buffer.pending_lines >= BATCH_LINES or self.unwritten >= BATCH_BYTES

    def _tick(self, now: float) -> None:
        """Write new lines (or just a heartbeat), then look for a cancel request."""
        self.ticked = now
        self._write(force_beat=now >= self.next_beat)
        self._check_row(self.store)

    def _check_row(self, store: Store) -> None:
        """Act on a cancel request, or on the run having been ended by someone else."""
        if self.stop_reason is not None:
            return
        try:
            row = store.one("SELECT status, cancel_requested_by FROM deploys WHERE id = ?",
                            (self.id,))
        except (StoreError, sqlite3.Error):
            return
        if row is None:
            return
        if row["status"] != str(RunStatus.RUNNING):
            self._begin_stop("lost", f"run was ended elsewhere as {row['status']}")
        elif row["cancel_requested_by"] is not None:
            self._begin_stop("cancel", f"cancelled by {row['cancel_requested_by']}")

    def _watch_row(self) -> None:
        """Poll for a cancel on a connection of its own, so that writing a large batch
        never delays it (the main loop polls too, in case this thread fails)."""
        try:
            store = open_store(self.store.path, create=False)
        except HotfixError:
            return
        try:
            while not self.stop_reading.wait(CANCEL_POLL) and self.stop_reason is None:
                self._check_row(store)
        finally:
            store.close()

    def _write(self, force_beat: bool = False) -> bool:
        """One transaction: new lines, counters, heartbeat. False if the store refused."""
        with self.lock:
            blocks = self.buffer.take(MAX_TXN_LINES)
            # The counters describe what this transaction makes visible, no more.
            if self.buffer.pending_lines:
                done = (blocks[-1].last_seq, blocks[-1].bytes_after)
            else:
                done = (self.buffer.lines, self.buffer.bytes)
            counters = (*done, self.buffer.dropped_bytes, int(self.buffer.capped))
            self.unwritten = 0
            self.drained.notify_all()
        if not blocks and not force_beat:
            return True
        beat = iso(utcnow())
        self.write_started = time.monotonic()
        try:
            with self.store.write():
                if blocks:
                    self.store.conn.executemany(INSERT_LINES, _rows(self.id, blocks))
                self.store.execute(
                    "UPDATE deploys SET lines = ?, bytes = ?, dropped_bytes = ?, "
                    "truncated = max(truncated, ?), heartbeat_at = ? WHERE id = ?",
                    (*counters, beat, self.id))
        except (StoreError, sqlite3.Error):
            with self.lock:
                self.buffer.untake(blocks)
            return False
        finally:
            self.write_ended = time.monotonic()
        self.next_beat = self.write_ended + HEARTBEAT_EVERY
        return True

    def _write_all(self) -> None:
        """Write every line still held (in several transactions if need be)."""
        failures = 0
        while True:
            if self._write(force_beat=True):
                with self.lock:
                    if not self.buffer.pending_lines:
                        return
                continue
            failures += 1
            if failures >= RETRY_FINAL_WRITE:
                raise StoreError(f"cannot write the last lines of {self.key}")
            time.sleep(0.25)

    # -- stopping the command ---------------------------------------------------------
    def _begin_stop(self, reason: str, detail: str) -> None:
        with self.stop_guard:  # the row watcher and the main loop may both get here
            if self.stop_reason is not None:
                return
            # kill_at first: the main loop reads stop_reason without the guard.
            self.kill_at = time.monotonic() + max(self.grace, 0.0)
            self.stop_detail = detail
            self.stop_reason = reason
        if self.grace > 0:
            how = f"sending SIGTERM to process group {self.pgid} (SIGKILL after {self.grace:g}s)"
            self._killpg(signal.SIGTERM)
        else:
            how = f"sending SIGKILL to process group {self.pgid}"
            self._killpg(signal.SIGKILL)
        with self.lock:
            self.buffer.sys(f"{detail}: {how}", iso(utcnow()))

    def _escalate(self, now: float) -> None:
        assert self.kill_at is not None
        if now >= self.kill_at:
            self._killpg(signal.SIGKILL)

    def _killpg(self, sig: int) -> None:
        if self.pgid:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, sig)

    def _group_alive(self) -> bool:
        """True while any process of the command's group exists (call after reaping it)."""
        if not self.pgid:
            return False
        if self.proc is not None and self.proc.returncode is not None:
            _reap_orphans(self.pgid)
        try:
            os.killpg(self.pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return bool(_group_members(self.pgid))

    # -- when the runner itself fails ---------------------------------------------------
    def fail(self, exc: BaseException) -> int:
        """Stop the command and record the error: nothing runs unsupervised."""
        if (self.proc is not None and self.proc.poll() is None) or self._group_alive():
            self._killpg(signal.SIGTERM)
            deadline = time.monotonic() + min(max(self.grace, 0.0), 10.0)
            while time.monotonic() < deadline and self.proc and self.proc.poll() is None:
                time.sleep(0.05)
            for _ in range(100):
                if self.proc is not None:
                    self.proc.poll()
                if not self._group_alive():
                    break
                self._killpg(signal.SIGKILL)
                time.sleep(0.05)
        self.stop_reading.set()
        rc = self.proc.poll() if self.proc is not None else None
        text = f"runner error: {type(exc).__name__}: {exc} (command stopped; {_outcome(rc)})"
        exit_code = rc if rc is not None and rc >= 0 else None
        sig = -rc if rc is not None and rc < 0 else None
        self._finish(RunStatus.FAILED, sig, text, exit_code=exit_code)
        return 1


def _become_subreaper() -> None:
    """Have orphaned processes of the command re-parented to us rather than to init.

    Then we reap them ourselves once they die, so the group is really gone
    (not lingering as zombies until init gets round to them) when the run ends.
    """
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _reap_orphans(pgid: int) -> None:
    """Reap dead orphans of group `pgid` (only once Popen has reaped the leader itself)."""
    while True:
        try:
            if os.waitid(os.P_PGID, pgid, os.WEXITED | os.WNOHANG) is None:
                return
        except (ChildProcessError, OSError):
            return


def _claim(store: Store, deploy_id: int) -> sqlite3.Row | None:
    """Record our pid, host and a heartbeat; None if the run is not ours to run."""
    now = iso(utcnow())
    with store.write():
        cur = store.execute(
            "UPDATE deploys SET pid = ?, host = ?, heartbeat_at = ? "
            "WHERE id = ? AND status = 'running' AND pid IS NULL",
            (os.getpid(), HOST, now, deploy_id))
        if cur.rowcount != 1:
            return None
        return run_row(store, deploy_id)


def _prepare_signals(runner_holder: list[_Runner]) -> None:
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


def run(db_path: str, deploy_id: int) -> int:
    """The runner's main: supervise run `deploy_id` to its end. Must run in the main thread."""
    holder: list[_Runner] = []
    _prepare_signals(holder)
    _become_subreaper()
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
        runner = _Runner(store, row)
        holder.append(runner)
        try:
            return runner.run()
        except Exception as exc:  # the runner must never end silently
            try:
                return runner.fail(exc)
            except Exception:
                return 1  # the store is unusable: the run will read as interrupted
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
    code = run(args.db, args.deploy)
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
