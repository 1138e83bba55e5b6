"""Cancelling a run: asking its runner, or stopping what a dead runner left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import time

from ..core.errors import HotfixError, IllegalTransition
from ..core.models import Actor, RunStatus
from ..services.runs import HOST, finish_run, runner_lost
from ..store import audit
from ..store.db import Store
from ..store.runs import append_sys_line, run_row


def request_cancel(store: Store, deploy_id: int, actor: Actor, now: str) -> None:
    """Ask the runner to stop the run; it notices within 250 ms.

    A second request keeps the first requester. When the runner itself is gone
    (services.runs.runner_lost), its process group is stopped from here
    (same host only: SIGTERM, then SIGKILL after the run's grace period, which
    this call waits for) and the run is finished as `cancelled`.
    """
    with store.write():
        row = run_row(store, deploy_id)
        if row["status"] != str(RunStatus.RUNNING):
            raise IllegalTransition(row["key"], row["status"], str(RunStatus.CANCELLED), ())
        if row["cancel_requested_at"] is None:
            store.execute(
                "UPDATE deploys SET cancel_requested_by = ?, cancel_requested_at = ? "
                "WHERE id = ?", (actor.name, now, deploy_id))
            incident = None
            if row["hotfix_id"] is not None:
                incident = store.scalar(
                    "SELECT i.key FROM hotfixes h JOIN incidents i ON i.id = h.incident_id "
                    "WHERE h.id = ?", (row["hotfix_id"],))
            audit.append(store, actor, now, "deploy", row["key"], "deploy.cancel_requested",
                         before={"status": "running"},
                         after={"cancel_requested_by": actor.name, "env": row["env"]},
                         incident=incident, hotfix=row["hotfix_key"])
    row = run_row(store, deploy_id)
    if not runner_lost(row):
        return
    if row["host"] and row["host"] != HOST:
        raise HotfixError(
            f"{row['key']}: cancel recorded, but its runner on {row['host']} is gone and its "
            f"processes cannot be stopped from {HOST}; stop them on {row['host']}")
    what = _stop_lost_group(row["pgid"], float(row["cancel_grace_s"]))
    with store.write():
        if run_row(store, deploy_id)["status"] != str(RunStatus.RUNNING):
            return
        append_sys_line(store, deploy_id, f"cancelled by {actor.name}: runner gone; {what}",
                        now)
        finish_run(store, deploy_id, RunStatus.CANCELLED, now=now, actor=actor,
                   note=f"runner gone; {what}")


def _group_members(pgid: int) -> list[int]:
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


def _stop_lost_group(pgid: int | None, grace: float) -> str:
    """SIGTERM the group, SIGKILL it after `grace`; returns what was done, for the log."""
    if not pgid or not _group_members(pgid):
        return "no process of the command was left"
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _group_members(pgid):
        time.sleep(0.05)
    if not _group_members(pgid):
        return f"process group {pgid} stopped by SIGTERM"
    deadline = time.monotonic() + 5
    while _group_members(pgid) and time.monotonic() < deadline:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        time.sleep(0.05)
    left = _group_members(pgid)
    if left:
        return f"process group {pgid}: {len(left)} processes survived SIGKILL"
    return f"process group {pgid} killed (SIGTERM, then SIGKILL after {grace:g}s)"



# Used by the services layer for commands left behind by a runner that died.
group_members = _group_members
stop_lost_group = _stop_lost_group
