"""A cgroup (v2) of a run's own, where this host lets the runner create one.

A process cannot leave a cgroup by setsid, setpgid, a double fork or a scrubbed
environment, so a cgroup holds every process a command started, and `cgroup.kill`
stops them all at once, forks in flight included. The runner creates it as a child of
its own cgroup; that needs write access there (root, or a cgroup delegated to the
account, as systemd does for `Delegate=yes` units). Where it cannot, every function
here says so or does nothing, and the run is tracked by its process group and its
environment marker alone (deploy/procs.py).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PREFIX = "hotfix-"


def _mount_point() -> Path | None:
    """Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or …/unified on a host
    that mounts v1 controllers too)."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                if right.split(" ", 1)[0] == "cgroup2":
                    return Path(left.split(" ")[4])
    except OSError:
        return None
    return None


def _own_path() -> str | None:
    """This process's cgroup v2 path ("0::/…" in /proc/self/cgroup)."""
    try:
        with open("/proc/self/cgroup", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("0::"):
                    return line[3:].strip()
    except OSError:
        return None
    return None


def create(name: str) -> tuple[Path | None, str]:
    """A new cgroup `hotfix-<name>` beside this process (in its cgroup); (None, why) when
    the host does not allow it."""
    mount, own = _mount_point(), _own_path()
    if mount is None:
        return None, "no cgroup v2 hierarchy is mounted"
    if own is None:
        return None, "this process is in no cgroup v2"
    return create_in(mount / own.lstrip("/"), name)


def create_in(parent: Path, name: str) -> tuple[Path | None, str]:
    """A new cgroup `hotfix-<name>` under `parent`, which must be a cgroup v2 directory."""
    if not (parent / "cgroup.procs").is_file():
        return None, f"{parent} is not a cgroup v2 directory"
    path = parent / f"{PREFIX}{name}"
    try:
        path.mkdir()
    except OSError as exc:
        return None, f"cannot create a cgroup in {parent}: {exc.strerror or exc}"
    if not (path / "cgroup.procs").is_file():  # a plain folder: not a cgroup after all
        with contextlib.suppress(OSError):
            path.rmdir()
        return None, f"{parent} is not a cgroup v2 directory"
    return path, ""


def enter(path: str | os.PathLike) -> None:
    """Move the calling process into `path` (in a child, between fork and exec)."""
    fd = os.open(os.path.join(path, "cgroup.procs"), os.O_WRONLY)
    try:
        os.write(fd, b"0")
    finally:
        os.close(fd)


def holds(path: str | os.PathLike, pid: int) -> bool:
    """Is process `pid` in cgroup `path`?"""
    try:
        with open(f"/proc/{pid}/cgroup", encoding="utf-8", errors="replace") as f:
            own = next((ln[3:].strip() for ln in f if ln.startswith("0::")), None)
    except OSError:
        return False
    return own is not None and str(path).endswith(own) and own != "/"


def members(path: str | os.PathLike | None) -> list[int]:
    """Processes in cgroup `path` (none when it is gone or unreadable). Exited processes
    leave it at once, zombies included."""
    if not path:
        return []
    try:
        with open(os.path.join(path, "cgroup.procs"), encoding="ascii") as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []


def kill(path: str | os.PathLike | None) -> bool:
    """SIGKILL every process in `path` at once (Linux 5.14+); False where not possible."""
    if not path:
        return False
    try:
        with open(os.path.join(path, "cgroup.kill"), "w", encoding="ascii") as f:
            f.write("1")
    except OSError:
        return False
    return True


def remove(path: str | os.PathLike | None, keep_members: bool = False) -> bool:
    """Remove cgroup `path`; True when it is gone. `keep_members`: processes still in it
    (daemons a successful deploy started on purpose) are moved to its parent first."""
    if not path or not os.path.isdir(path):
        return True
    if keep_members:
        parent = os.path.join(os.path.dirname(os.fspath(path)), "cgroup.procs")
        for pid in members(path):
            with contextlib.suppress(OSError), open(parent, "w", encoding="ascii") as f:
                f.write(str(pid))
    try:
        os.rmdir(path)
    except OSError:
        return False
    return True
