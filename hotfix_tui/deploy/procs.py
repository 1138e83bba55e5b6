"""Every process a run's command started, whatever it did to its group or session.

The command leads its own session and process group, but a process it starts may
leave both (setsid, setpgid, a daemon's double fork). So a run's processes are found
three ways, and stopping a run signals all of them:

- its **process group** (the command's pid);
- its **marker**: the runner gives the command `HOTFIX_RUN=<run key>.<nonce>` in its
  environment, which every process it starts inherits; they are found by reading
  /proc/<pid>/environ of this account's processes (every account's, as root). A process
  that clears its environment before it execs (`env -i`, a daemon that scrubs it)
  escapes the marker;
- its **cgroup** (deploy/cgroup.py), where the host lets the runner create one: nothing
  leaves it, and `cgroup.kill` stops every member at once.

A process that survives the stop (stuck in the kernel, or run as an account this one
may not signal) is a `Survivor`: named in the run's log and recorded on the run, it
holds the environment until it is gone or someone clears it (services/refusals.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass

from . import cgroup as cg
from .procgroup import group_members

MARKER_VAR = "HOTFIX_RUN"
KILL_GIVE_UP = 10.0  # seconds of SIGKILLs after which the processes left are survivors


def new_marker(key: str) -> str:
    """`D-7.3f9a…`: the run's key, and a nonce that tells its processes from those of a
    run with the same key in another database."""
    return f"{key}.{secrets.token_hex(8)}"


def _stat(pid: int) -> tuple[bytes, int] | None:
    """(state, start time in clock ticks since boot) of a process; None when gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2:].split()
    return fields[0], int(fields[19])


def alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] != b"Z"


def marked(markers: Iterable[str]) -> dict[str, list[int]]:
    """Live processes whose environment carries HOTFIX_RUN=<marker>, by marker: this
    account's processes (every account's, as root). One pass over /proc for all."""
    needles = {f"{MARKER_VAR}={m}".encode(): m for m in markers if m}
    found: dict[str, list[int]] = {m: [] for m in needles.values()}
    if not needles:
        return found
    me = os.geteuid()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if me != 0 and os.stat(f"/proc/{name}").st_uid != me:
                continue
            with open(f"/proc/{name}/environ", "rb") as f:
                environ = f.read()
        except OSError:
            continue  # gone, a zombie, or not ours to read
        if MARKER_VAR.encode() not in environ:
            continue
        for entry in environ.split(b"\0"):
            if entry in needles:
                found[needles[entry]].append(int(name))
                break
    return found


@dataclass(frozen=True)
class RunProcesses:
    """Where to look for one run's processes."""

    pgid: int | None
    marker: str = ""
    cgroup: str = ""

    @classmethod
    def of(cls, row) -> RunProcesses:
        """From a `deploys` row (runs of earlier versions have no marker and no cgroup)."""
        keys = row.keys()
        return cls(row["pgid"], row["marker"] if "marker" in keys else "",
                   row["cgroup"] if "cgroup" in keys else "")

    def pids(self, marks: dict[str, list[int]] | None = None) -> list[int]:
        """Every live process of the run (`marks`: a `marked()` pass already made)."""
        found = set(group_members(self.pgid)) if self.pgid else set()
        if self.marker:
            found.update((marks if marks is not None else marked([self.marker])).get(
                self.marker, ()))
        found.update(p for p in cg.members(self.cgroup) if alive(p))
        found.discard(os.getpid())
        return sorted(p for p in found if alive(p))

    def alive(self, marks: dict[str, list[int]] | None = None) -> bool:
        return bool(self.pids(marks))

    def signal(self, sig: int) -> list[int]:
        """Send `sig` to every process of the run; returns those it may not signal."""
        if sig == signal.SIGKILL:
            cg.kill(self.cgroup)
        if self.pgid and group_members(self.pgid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pgid, sig)
        refused = []
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
            except PermissionError:
                refused.append(pid)
        return refused

    def describe(self) -> str:
        """How the run's processes are tracked, for the run's log."""
        parts = [f"process group {self.pgid}"] if self.pgid else []
        if self.marker:
            parts.append(f"{MARKER_VAR}={self.marker}")
        if self.cgroup:
            parts.append(f"cgroup {self.cgroup}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Survivor:
    """A process of a run that outlived its stop: who it is, so that nobody mistakes a
    later process with the same pid for it."""

    pid: int
    start: int
    account: str
    command: str

    @classmethod
    def of(cls, pid: int) -> Survivor | None:
        st = _stat(pid)
        if st is None or st[0] == b"Z":
            return None
        try:
            uid = os.stat(f"/proc/{pid}").st_uid
        except OSError:
            return None
        return cls(pid, st[1], account_name(uid), command_of(pid))

    def alive(self) -> bool:
        st = _stat(self.pid)
        return st is not None and st[0] != b"Z" and st[1] == self.start

    def to_json(self) -> dict:
        return {"pid": self.pid, "start": self.start, "account": self.account,
                "command": self.command}

    @classmethod
    def from_json(cls, doc: dict) -> Survivor:
        return cls(int(doc["pid"]), int(doc.get("start", 0)), str(doc.get("account", "")),
                   str(doc.get("command", "")))

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.command}) as {self.account}"


def survivors_of(row) -> list[Survivor]:
    """The survivors recorded on a `deploys` row."""
    try:
        docs = json.loads(row["survivors"] or "[]")
    except (ValueError, TypeError, IndexError, KeyError):
        return []
    return [Survivor.from_json(d) for d in docs if isinstance(d, dict) and "pid" in d]


def stop(procs: RunProcesses, grace: float, give_up: float = KILL_GIVE_UP
         ) -> tuple[str, list[Survivor]]:
    """SIGTERM every process of the run, SIGKILL after `grace`, and SIGKILL again until
    none is left or `give_up` seconds passed; returns what was done, for the log, and
    the processes left (for a runner that is gone; the runner itself escalates in its
    supervising loop)."""
    if not procs.alive():
        return "no process of the command was left", []
    procs.signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and procs.alive():
        time.sleep(0.05)
    if not procs.alive():
        return f"{procs.describe()}: stopped by SIGTERM", []
    deadline = time.monotonic() + give_up
    while procs.alive() and time.monotonic() < deadline:
        procs.signal(signal.SIGKILL)
        time.sleep(0.05)
    left = [s for s in map(Survivor.of, procs.pids()) if s is not None]
    if left:
        return (f"{procs.describe()}: {len(left)} process(es) survived SIGKILL for "
                f"{give_up:g}s", left)
    return f"{procs.describe()}: killed (SIGTERM, then SIGKILL after {grace:g}s)", []


def command_of(pid: int) -> str:
    """A process's command line, printable and short."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read(400)
    except OSError:
        return "?"
    text = raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()
    text = "".join(c if c.isprintable() else "?" for c in text)
    return (text[:120] + ("…" if len(text) > 120 else "")) or "?"


def account_name(uid: int | None) -> str:
    try:
        return pwd.getpwuid(uid).pw_name if uid is not None else "another account"
    except KeyError:
        return f"uid {uid}"


def uid_of(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None

