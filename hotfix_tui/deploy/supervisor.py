"""Supervising one run's command: reading its output into the store, the heartbeat,
cancel and timeout, and stopping its whole process group. See runner.py for the process
this runs in, and lifecycle.py for what the run's end means."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shlex
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterable
from itertools import chain, repeat

from ..clock import iso, utcnow
from ..core.errors import HotfixError, StoreError
from ..core.models import RunStatus
from ..store import open_store
from ..store.db import Store
from ..store.runs import INSERT_LINES, run_row
from . import cgroup, reserve
from .lifecycle import HOST, finish_run
from .logtext import Block, LogBuffer
from .outcome import STOPPED_AS, codes, outcome_text, store_full
from .procs import MARKER_VAR, RunProcesses
from .stopping import Stopper

FLUSH_EVERY = 0.1  # seconds between writes of new lines
WRITE_GAP = 0.11  # after a long write, this long before the next, so others get a turn
LONG_WRITE = 0.05
MAX_TXN_LINES = 100_000  # lines in one transaction (a few hundred ms of holding the lock)
CANCEL_POLL = 0.1  # seconds between looks at the row for a cancel request
HEARTBEAT_EVERY = 0.5  # lifecycle expects one at least every second
BATCH_LINES = 100_000  # write early when this many lines wait…
BATCH_BYTES = 8 << 20  # …or this much output
HIGH_WATER_LINES = 400_000  # stop reading (the command blocks) while the store lags this far…
HIGH_WATER_BYTES = 64 << 20  # …or this much output waits in memory
READ_SIZE = 1 << 20
SMALL_READ = 64 * 1024
TRICKLE_WAIT = 0.002
PIPE_SIZE = 1 << 20  # bigger pipes let the command run ahead while a batch is written
EOF_GRACE = 2.0  # after the command exits, how long a background process may keep its output
RETRY_FINAL_WRITE = 20  # attempts (about 0.25 s apart) at the last batch when the store is busy

def _rows(deploy_id: int, blocks: list[Block]) -> Iterable[tuple]:
    """Parameter rows for executemany, built lazily in C (no per-line Python code)."""
    return chain.from_iterable(
        zip(repeat(deploy_id), range(b.first_seq, b.first_seq + len(b.texts)),
            repeat(b.stream), repeat(b.at), b.texts,
            b.flags if b.flags is not None else repeat(0))
        for b in blocks)


class Supervisor:
    def __init__(self, store: Store, row: sqlite3.Row) -> None:
        self.store = store
        self.id = int(row["id"])
        self.key = row["key"]
        self.row = row
        self.argv: list[str] = []
        self.env_vars: dict[str, str] = {}
        self.workdir = row["workdir"] or None
        self.timeout_s = float(row["timeout_s"])
        self.buffer = LogBuffer(int(row["max_log_bytes"]), first_seq=int(row["lines"]) + 1)
        self.lock = threading.Lock()
        self.data_ready = threading.Condition(self.lock)
        self.drained = threading.Condition(self.lock)
        self.reader_done = threading.Event()
        self.stop_reading = threading.Event()
        self.open_streams: set[str] = set()
        self.proc: subprocess.Popen | None = None
        self.pgid: int | None = None
        self.marker = str(row["marker"] or "")
        self.cgroup: str = ""  # the run's cgroup, where the host allows one
        self.no_cgroup = ""  # why there is none
        self.signal_received: int | None = None
        self.stopper = Stopper(float(row["cancel_grace_s"]), self._note)
        self.next_beat = 0.0
        self.write_started = self.write_ended = self.ticked = 0.0
        self.unwritten = 0  # bytes read since the last write (memory held by the buffer)
        self.stored_bytes = 0  # output bytes the store holds (LogBuffer.bytes as written)
        self.store_full: str | None = None  # why the store refuses the log (its disk is full)
        self.reserve = reserve.make(store.path, self.key)  # room kept for the outcome

    @property
    def stop_reason(self) -> str | None:
        """Why the command is being stopped ("cancel", "timeout", "signal", "lost")."""
        return self.stopper.reason

    # -- the whole run -------------------------------------------------------------
    def run(self) -> int:
        self.argv = [str(a) for a in json.loads(self.row["argv"])]
        self.env_vars = {str(k): str(v)
                         for k, v in json.loads(self.row["env_vars"] or "{}").items()}
        self._preamble()
        row = run_row(self.store, self.id)
        if row["cancel_requested_by"] is not None:
            return self._finish(RunStatus.CANCELLED, None,
                                f"cancelled by {row['cancel_requested_by']} before it started")
        try:
            self._start()
        except OSError as exc:
            cgroup.remove(self.cgroup)
            where = exc.filename if exc.filename is not None else (self.argv or [""])[0]
            if self.workdir and where == self.workdir:
                where = f"working directory {where}"
            code = 127 if isinstance(exc, FileNotFoundError) else 126
            return self._finish(RunStatus.FAILED, None,
                                f"cannot start the command: {where}: {exc.strerror or exc}",
                                exit_code=code)
        assert self.proc is not None
        self.pgid = self.proc.pid
        self.stopper.procs = RunProcesses(self.pgid, self.marker, self.cgroup)
        self._note(f"started pid {self.proc.pid} (process group {self.pgid}) on "
                   f"{HOST} in {self.workdir or os.getcwd()}")
        self._note(f"processes tracked by {self.stopper.procs.describe()}"
                   + ("" if self.cgroup else f" (no cgroup: {self.no_cgroup})"))
        with self.store.write():
            self.store.execute("UPDATE deploys SET pgid = ?, cgroup = ? WHERE id = ?",
                               (self.pgid, self.cgroup, self.id))
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

    def _preamble(self) -> None:
        """The run's first lines: the command, and a warning when the disk is short."""
        with self.lock:
            self.buffer.sys(f"$ {shlex.join(self.argv)}", iso(utcnow()))
            if self.reserve is None and self.store.path != ":memory:":
                self.buffer.sys(f"the database's disk has less than {reserve.SIZE >> 20} MiB "
                                "free: if it fills up, this run's outcome may not be "
                                "recorded", iso(utcnow()))

    def _start(self) -> None:
        """Start the command in a session and process group of its own, with the run's
        marker in its environment, and in a cgroup of the run's own where the host
        allows one (deploy/procs.py)."""
        if not self.argv:
            raise FileNotFoundError(2, "empty command")
        path, self.no_cgroup = cgroup.create(self.marker) if self.marker else (None, "")
        self.cgroup = str(path or "")
        where = self.cgroup

        def enter() -> None:  # in the child; the runner has no other thread yet
            with contextlib.suppress(OSError):
                cgroup.enter(where)

        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.workdir,
            env={**os.environ, **self.env_vars, MARKER_VAR: self.marker},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
            start_new_session=True,
            preexec_fn=enter if where else None,
        )
        if where and self.proc.poll() is None and not cgroup.holds(where, self.proc.pid):
            self.no_cgroup = f"the command could not be moved into {where}"
            cgroup.remove(where)
            self.cgroup = ""

    def _conclude(self) -> int:
        assert self.proc is not None
        rc = self.proc.poll()
        outcome = outcome_text(rc)
        exit_code, sig = codes(rc)
        # what a successful deploy left running on purpose (a daemon) keeps running
        cgroup.remove(self.cgroup, keep_members=self.stop_reason is None)
        if self.stop_reason is not None:
            return self._finish(STOPPED_AS[self.stop_reason], sig,
                                f"{self.stopper.detail} ({outcome})", exit_code=exit_code)
        status = RunStatus.SUCCEEDED if rc == 0 else RunStatus.FAILED
        return self._finish(status, sig, outcome, exit_code=exit_code)

    def _finish(self, status: RunStatus, sig: int | None, last_line: str, *,
                exit_code: int | None = None) -> int:
        """Store the last lines, then the outcome. Known: how the command ended; not
        known, and said so: any output the store refused (a full disk)."""
        at = iso(utcnow())
        with self.lock:
            for stream in sorted(self.open_streams):
                self.buffer.close(stream, at)
            self.open_streams.clear()
            note = self.buffer.cap_note()
            if note:
                self.buffer.sys(note, at)
            refused = self.buffer.refusal_note(self.store_full or "")
            if refused:
                last_line = f"{last_line}; {refused}"
            self.buffer.sys(last_line, at)
        try:
            self._write_all()
        except StoreError as exc:  # the outcome goes in all the same, with why
            last_line = f"{last_line}; the end of the log could not be stored: {exc}"
        finish_run(self.store, self.id, status, exit_code=exit_code, signal=sig, now=at,
                   note=last_line,
                   survivors=[s.to_json() for s in self.stopper.survivors])
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
        """Until the command has exited (and, when stopping it, its whole group is gone)
        and its output is read: write, beat, and watch for a cancel or the timeout."""
        assert self.proc is not None
        deadline = time.monotonic() + self.timeout_s if self.timeout_s > 0 else None
        settled: tuple[float, bool] | None = None  # when it settled; was it being stopped
        while True:
            self._wait()
            now = time.monotonic()
            rc = self.proc.poll()
            self._tick(now)
            self._check_stop(now, deadline, rc)
            if self.stop_reason is not None and settled is not None and not settled[1]:
                settled = None  # cancelled while its output drains: the group must go too
            if self.stop_reason is not None and settled is None:
                self.stopper.escalate(now)  # never once all is gone: numbers are reused
            if rc is None:
                # stuck in the kernel (state D) past the SIGKILLs: nothing more to do
                if self.stopper.give_up(now, "the command"):
                    return
                continue
            if settled is None:
                if self._group_lingers(now):
                    continue
                settled = (now, self.stop_reason is not None)
            if self._output_finished(now, settled[0]):
                return

    def _check_stop(self, now: float, deadline: float | None, rc: int | None) -> None:
        if self.stop_reason is not None:
            return
        if self.signal_received is not None:
            name = signal.Signals(self.signal_received).name
            self._begin_stop("signal", f"runner received {name}")
        elif deadline is not None and now >= deadline and rc is None:
            self._begin_stop("timeout", f"timed out after {self.timeout_s:g}s")

    def _group_lingers(self, now: float) -> bool:
        """While stopping: a process the command started is still alive (and we have
        not given up on it)."""
        if self.stop_reason is None or not self._group_alive():
            return False
        return not self.stopper.give_up(now, "processes the command started")

    def _output_finished(self, now: float, settled_at: float) -> bool:
        if self.reader_done.is_set():
            return True
        if now - settled_at < EOF_GRACE:
            return False
        self._note(f"the command exited but a background process still holds its output "
                   f"open; stopped reading after {EOF_GRACE:g}s")
        return True

    def _note(self, text: str) -> None:
        """A line from the runner itself (stream `sys`) in the run's log."""
        with self.lock:
            self.buffer.sys(text, iso(utcnow()))

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
            incomplete = self.buffer.capped or self.buffer.refused_from is not None
            counters = (*done, self.buffer.dropped_bytes, int(incomplete))
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
        except (StoreError, sqlite3.Error) as exc:
            self._refused(exc, blocks)
            return False
        finally:
            self.write_ended = time.monotonic()
        self.stored_bytes = done[1]
        self.next_beat = self.write_ended + HEARTBEAT_EVERY
        return True

    def _refused(self, exc: BaseException, blocks: list[Block]) -> None:
        """The store refused a write. Busy: the lines wait for the next try. Full (its
        disk, or its size limit): waiting does not help, and holding the output would
        stop the command; so the output not stored is counted, not kept, and the log
        says from which line on (the runner's own lines, and the outcome, still go in)."""
        full = store_full(exc)
        with self.lock:
            if full is None:
                self.buffer.untake(blocks)
                return
            newly = self.store_full is None
            self.store_full = full
            reserve.release(self.reserve)  # what is left to write fits in it
            first = self.buffer.refuse(blocks, self.stored_bytes)
            if newly:
                self.buffer.sys(f"the store refused the log from line {first} on: {full}; "
                                "the command runs on, its output is counted, not stored",
                                iso(utcnow()))

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
        self.stopper.begin(reason, detail, time.monotonic())

    def _group_alive(self) -> bool:
        """True while any process the command started is alive."""
        reaped = self.proc is not None and self.proc.returncode is not None
        return self.stopper.alive(command_reaped=reaped)

    # -- when the runner itself fails ---------------------------------------------------
    def fail(self, exc: BaseException) -> int:
        """Stop the command and record the error: nothing runs unsupervised."""
        if (self.proc is not None and self.proc.poll() is None) or self._group_alive():
            self.stopper.signal(signal.SIGTERM)
            deadline = time.monotonic() + min(self.stopper.grace, 10.0)
            while time.monotonic() < deadline and self.proc and self.proc.poll() is None:
                time.sleep(0.05)
            for _ in range(100):
                if self.proc is not None:
                    self.proc.poll()
                if not self._group_alive():
                    break
                self.stopper.signal(signal.SIGKILL)
                time.sleep(0.05)
            cgroup.remove(self.cgroup)
        self.stop_reading.set()
        rc = self.proc.poll() if self.proc is not None else None
        text = f"runner error: {type(exc).__name__}: {exc} (command stopped; {outcome_text(rc)})"
        exit_code, sig = codes(rc)
        self._finish(RunStatus.FAILED, sig, text, exit_code=exit_code)
        return 1


