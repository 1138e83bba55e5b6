"""Cancelling a run: asking its runner, or stopping what a dead runner left behind."""

from __future__ import annotations

import os
import pwd

from ..core.errors import HotfixError, IllegalTransition
from ..core.models import Actor, RunStatus
from ..store import audit
from ..store.db import Store
from ..store.runs import append_sys_line, run_row
from .lifecycle import HOST, finish_run, incident_of, runner_lost
from .procgroup import group_members, stop_lost_group


def request_cancel(store: Store, deploy_id: int, actor: Actor, now: str) -> None:
    """Ask the runner to stop the run; it notices within 250 ms.

    A second request keeps the first requester. When the runner itself is gone
    (lifecycle.runner_lost), its process group is stopped from here
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
            audit.append(store, actor, now, "deploy", row["key"], "deploy.cancel_requested",
                         before={"status": "running"},
                         after={"cancel_requested_by": actor.name, "env": row["env"]},
                         incident=incident_of(store, row), hotfix=row["hotfix_key"])
    row = run_row(store, deploy_id)
    if not runner_lost(row):
        return
    if row["host"] and row["host"] != HOST:
        raise HotfixError(
            f"{row['key']}: cancel recorded, but its runner on {row['host']} is gone and its "
            f"processes cannot be stopped from {HOST}; stop them on {row['host']}")
    check_may_signal(row["key"], row["pgid"])
    what = stop_lost_group(row["pgid"], float(row["cancel_grace_s"]))
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
    members = group_members(pgid)
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
