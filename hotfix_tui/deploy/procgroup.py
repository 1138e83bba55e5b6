"""Process groups of a run's command: who is in one, stopping one, reaping its orphans.

A run's command leads its own session and process group (the runner starts it with
`start_new_session`), so the group's number is the command's pid and every process it
starts stays in that group unless it leaves on purpose.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) pids in process group `pgid`, if it is a group we started.

    A run's command leads its own session, so a member whose session is not
    `pgid` means the number was reused by someone else's group: we touch nothing.
    """
    members: list[int] = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        state, pgrp, session = fields[0], int(fields[2]), int(fields[3])
        if pgrp != pgid or state == b"Z":
            continue
        if session != pgid:
            return []
        members.append(int(name))
    return members


def killpg(pgid: int | None, sig: int) -> None:
    """Signal the whole group; a group that is gone (or not ours to signal) is left be."""
    if pgid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)


def stop_lost_group(pgid: int | None, grace: float) -> str:
    """SIGTERM the group, SIGKILL it after `grace`; returns what was done, for the log."""
    if not pgid or not group_members(pgid):
        return "no process of the command was left"
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and group_members(pgid):
        time.sleep(0.05)
    if not group_members(pgid):
        return f"process group {pgid} stopped by SIGTERM"
    deadline = time.monotonic() + 5
    while group_members(pgid) and time.monotonic() < deadline:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        time.sleep(0.05)
    left = group_members(pgid)
    if left:
        return f"process group {pgid}: {len(left)} processes survived SIGKILL"
    return f"process group {pgid} killed (SIGTERM, then SIGKILL after {grace:g}s)"


_PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def become_subreaper() -> None:
    """Have orphaned processes of the command re-parented to us rather than to init.

    Then we reap them ourselves once they die, so the group is really gone
    (not lingering as zombies until init gets round to them) when the run ends.
    """
    with contextlib.suppress(Exception):
        import ctypes  # only the runner process needs it

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap_orphans(pgid: int) -> None:
    """Reap dead orphans of group `pgid` (only once Popen has reaped the leader itself)."""
    while True:
        try:
            if os.waitid(os.P_PGID, pgid, os.WEXITED | os.WNOHANG) is None:
                return
        except (ChildProcessError, OSError):
            return


def group_alive(pgid: int | None) -> bool:
    """True while any process of group `pgid` exists (reap the leader first)."""
    if not pgid:
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return bool(group_members(pgid))
