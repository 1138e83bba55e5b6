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
    check_may_signal(row["key"], row["pgid"])
    what = _stop_lost_group(row["pgid"], float(row["cancel_grace_s"]))
    with store.write():
        if run_row(store, deploy_id)["status"] != str(RunStatus.RUNNING):
            return
        append_sys_line(store, deploy_id, f"cancelled by {actor.name}: runner gone; {what}",
                        now)
        finish_run(store, deploy_id, RunStatus.CANCELLED, now=now, actor=actor,
                   note=f"runner gone; {what}")


def check_may_signal(key: str, pgid: int | None) -> None:
    """A command left by a dead runner runs as the account that started it; only that
    account (or root) may signal it. Say so, with who and what to run, rather than fail
    half-way with a permission error."""
    if not pgid or os.geteuid() == 0:
        return
    members = _group_members(pgid)
    foreign = [pid for pid in members if _uid_of(pid) not in (None, os.geteuid())]
    if not foreign:
        return
    owner = _account(_uid_of(foreign[0]))
    command = _cmdline(pgid if pgid in members else foreign[0])
    raise HotfixError(
        f"{key}: cancel recorded, but its runner is gone and its command still runs "
        f"as {owner} (process group {pgid}: {command}), which only {owner} or root can "
        f"stop: ask {owner} to run `hotfix cancel {key}`, or an admin: "
        f"sudo kill -TERM -- -{pgid}")


def _uid_of(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def _account(uid: int | None) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name if uid is not None else "another account"
    except KeyError:
        return f"uid {uid}"


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read(400)
    except OSError:
        return "?"
    text = raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text[:120] + ("…" if len(text) > 120 else "")


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
