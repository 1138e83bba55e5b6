"""Process groups of a run's command, and the runner as the reaper of its orphans.

A run's command leads its own session and process group (the runner starts it with
`start_new_session`), so the group's number is the command's pid. What leaves the
group is found by the run's marker and cgroup (procs.py).
"""

from __future__ import annotations

import contextlib
import os


def group_members(pgid: int | None) -> list[int]:
    """Live (non-zombie) pids in process group `pgid`, if it is a group we started.

    A run's command leads its own session, so a member whose session is not
    `pgid` means the number was reused by someone else's group: we touch nothing.
    """
    if not pgid:
        return []
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


_PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def become_subreaper() -> None:
    """Have orphaned processes of the command re-parented to us rather than to init,
    whatever group or session they moved to.

    Then we reap them ourselves once they die (stopping.reap_children), so they are
    really gone (not lingering as zombies until init gets round to them) when the run
    ends.
    """
    with contextlib.suppress(Exception):
        import ctypes  # only the runner process needs it

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
