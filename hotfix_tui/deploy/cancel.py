"""Cancelling a run: asking its runner, or stopping what a dead runner left behind."""

from __future__ import annotations

from ..core.errors import HotfixError, IllegalTransition
from ..core.models import Actor, RunStatus
from ..store import audit
from ..store.db import Store
from ..store.runs import append_sys_line, run_row
from .lifecycle import HOST, finish_run, incident_of, runner_lost
from .procgroup import stop_lost_group


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
    what = stop_lost_group(row["pgid"], float(row["cancel_grace_s"]))
    with store.write():
        if run_row(store, deploy_id)["status"] != str(RunStatus.RUNNING):
            return
        append_sys_line(store, deploy_id, f"cancelled by {actor.name}: runner gone; {what}",
                        now)
        finish_run(store, deploy_id, RunStatus.CANCELLED, now=now, actor=actor,
                   note=f"runner gone; {what}")
