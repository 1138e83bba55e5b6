"""Cancelling a run: asking its runner, or stopping what a dead runner left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import time

from ..core.errors import HotfixError, IllegalTransition
from ..core.models import Actor, RunStatus
from ..store import audit
from ..store.db import Store
from ..store.runs import append_sys_line, run_row
from . import cgroup
from .lifecycle import HOST, finish_run, incident_of, record_survivors, runner_lost
from .procs import RunProcesses, account_name, command_of, stop, survivors_of, uid_of


def request_cancel(store: Store, deploy_id: int, actor: Actor, now: str) -> None:
    """Ask the runner to stop the run; it notices within 250 ms.

    A second request keeps the first requester. When the runner itself is gone
    (lifecycle.runner_lost), every process of the command (deploy/procs.py) is
    stopped from here (same host only: SIGTERM, then SIGKILL after the run's grace
    period, which this call waits for) and the run is finished as `cancelled`.
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
    check_may_signal(row)
    what, left = stop_processes(row)
    with store.write():
        if run_row(store, deploy_id)["status"] != str(RunStatus.RUNNING):
            return
        append_sys_line(store, deploy_id, f"cancelled by {actor.name}: runner gone; {what}",
                        now)
        for s in left:
            append_sys_line(store, deploy_id, f"survivor: {s}: could not be stopped", now)
        finish_run(store, deploy_id, RunStatus.CANCELLED, now=now, actor=actor,
                   note=f"runner gone; {what}", survivors=[s.to_json() for s in left])


def stop_processes(row) -> tuple[str, list]:
    """Stop every process of run `row` whose runner is gone; (what was done, survivors).
    Its cgroup goes too once empty."""
    procs = RunProcesses.of(row)
    what, left = stop(procs, float(row["cancel_grace_s"]))
    if not left:
        cgroup.remove(procs.cgroup)
    return what, left


def retry_survivors(store: Store, row, actor: Actor, now: str) -> list:
    """Try again to stop the processes a run's stop left behind; those that are gone are
    cleared (with the event `deploy.survivors_stopped`); returns those still alive."""
    recorded = survivors_of(row)
    for s in recorded:
        if s.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(s.pid, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and any(s.alive() for s in recorded):
        time.sleep(0.05)
    left = [s for s in recorded if s.alive()]
    if len(left) < len(recorded):
        with store.write():
            record_survivors(store, run_row(store, row["id"]), [s.to_json() for s in left],
                             now, actor, incident_of(store, row), "deploy.survivors_stopped",
                             "no longer running")
    if not left:
        cgroup.remove(row["cgroup"])
    return left


def clear_survivors(store: Store, row, actor: Actor, now: str, reason: str) -> None:
    """Forget a run's survivors: a person says they no longer hold the environment
    (inside store.write())."""
    record_survivors(store, row, [], now, actor, incident_of(store, row),
                     "deploy.survivors_cleared", reason)


def check_may_signal(row) -> None:
    """A command left by a dead runner runs as the account that started it; only that
    account (or root) may signal it. Say so, with who and what to run, rather than fail
    half-way with a permission error."""
    if os.geteuid() == 0:
        return
    pgid = row["pgid"]
    members = RunProcesses.of(row).pids()
    foreign = [pid for pid in members if uid_of(pid) not in (None, os.geteuid())]
    if not foreign:
        return
    owner = account_name(uid_of(foreign[0]))
    command = command_of(pgid if pgid in members else foreign[0])
    key = row["key"]
    raise HotfixError(
        f"{key}: cancel recorded, but its runner is gone and its command still runs "
        f"as {owner} (process group {pgid}: {command}), which only {owner} or root can "
        f"stop: ask {owner} to run `hotfix cancel {key}`, or an admin: "
        f"sudo kill -TERM -- -{pgid}")

