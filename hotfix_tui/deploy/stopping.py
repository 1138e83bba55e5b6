"""Stopping a run's command and everything it started (deploy/procs.py), on cancel,
timeout, a signal to the runner or a runner error: SIGTERM, SIGKILL after the grace
period, SIGKILL again until nothing is left; what is still alive KILL_GIVE_UP seconds
after the first SIGKILL is a survivor, named in the run's log."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable

from .procs import KILL_GIVE_UP, RunProcesses, Survivor


def reap_children() -> None:
    """Reap every dead child of the runner: the command's orphans are re-parented to it
    (a child subreaper), whatever group or session they moved to. Only once Popen has
    reaped the command itself, or its exit status would be lost."""
    while True:
        try:
            if os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG) is None:
                return
        except (ChildProcessError, OSError):
            return


class Stopper:
    """Why the command is being stopped, since when, and what is left of it."""

    def __init__(self, grace: float, note: Callable[[str], None]) -> None:
        self.procs: RunProcesses | None = None  # set once the command has started
        self.grace = max(grace, 0.0)
        self.note = note
        # "cancel", "timeout", "signal" or "lost"; None while nobody stops the command.
        self.reason: str | None = None
        self.detail = ""
        self.kill_at: float | None = None
        self.guard = threading.Lock()
        self.survivors: list[Survivor] = []

    def begin(self, reason: str, detail: str, now: float) -> None:
        with self.guard:  # the row watcher and the main loop may both get here
            if self.reason is not None:
                return
            # kill_at first: the main loop reads `reason` without the guard.
            self.kill_at = now + self.grace
            self.detail = detail
            self.reason = reason
        what = self.procs.describe() if self.procs is not None else "the command"
        if self.grace > 0:
            self.signal(signal.SIGTERM)
            self.note(f"{detail}: sending SIGTERM to {what} (SIGKILL after {self.grace:g}s)")
        else:
            self.signal(signal.SIGKILL)
            self.note(f"{detail}: sending SIGKILL to {what}")

    def signal(self, sig: int) -> None:
        if self.procs is not None:
            self.procs.signal(sig)

    def escalate(self, now: float) -> None:
        """SIGKILL whatever is left once the grace period is over (again at every call:
        a process may have forked meanwhile)."""
        if self.kill_at is not None and now >= self.kill_at:
            self.signal(signal.SIGKILL)

    def alive(self, command_reaped: bool) -> bool:
        """Is any process of the run alive (`command_reaped`: Popen has its status, so
        the runner may reap the rest)?"""
        if command_reaped:
            reap_children()
        return self.procs is not None and self.procs.alive()

    def give_up(self, now: float, what: str) -> bool:
        """SIGKILL was sent KILL_GIVE_UP seconds ago: name what is left in the log (the
        survivors) and stop waiting."""
        if self.kill_at is None or now - self.kill_at <= KILL_GIVE_UP:
            return False
        self.note(f"{what} survived SIGKILL for {KILL_GIVE_UP:g}s; giving up")
        pids = self.procs.pids() if self.procs is not None else []
        self.survivors = [s for s in map(Survivor.of, pids) if s is not None]
        for s in self.survivors:
            self.note(f"survivor: {s}: could not be stopped; it holds the environment "
                      "until it is gone or cleared")
        return True
