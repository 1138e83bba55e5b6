"""The run lifecycle: who runs a run, whether it still does, and what its end changes.

A run is a row in `deploys` that a detached runner (runner.py) owns. This module is
the one place that knows

- the host a runner lives on, and whether a runner is alive (`runner_lost`);
- what every reader shows for a run (`effective_status`: a dead runner is
  `interrupted`, never `running`), and which interrupted runs left their command
  behind (`orphaned_runs`);
- how a run ends (`finish_run`, once), and what that end means for the environment
  and the hotfix (`settle`): deployed or failed, rolled back, verified on its
  environment (the per-environment rules: `verification.py`);
- recording every run whose runner vanished (`reap_lost_runs`).

It sits below the services: it reads and writes through `store/` and decides with
`core/`. The runner calls it when its command exits; services call it when they find
a runner gone. Every effect and its audit event commit together.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from .. import anchor
from ..clock import iso, parse_iso, utcnow
from ..core.models import Actor, HotfixState, RunKind, RunStatus, VerificationState
from ..core.workflow import HOTFIX_TRANSITIONS
from ..store import audit, records, verifications
from ..store.db import Store
from ..store.runs import run_row
from . import reserve, verification
from .procs import RunProcesses, marked, survivors_of

# A runner writes its heartbeat at least every second. Past STALE_AFTER with its
# pid gone (same host) or past LOST_AFTER whatever the pid, its outcome is unknown.
STALE_AFTER = timedelta(seconds=4)
LOST_AFTER = timedelta(seconds=90)
STARTING_GRACE = timedelta(seconds=180)
HOST = os.uname().nodename  # what socket.gethostname() answers, without loading socket


def pid_alive(pid: int | None, deploy_id: int | None = None) -> bool:
    """Is the runner of this run still alive on this host? A zombie is dead; a pid
    reused by something else (or by another run's runner) is not ours."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        if stat[stat.rfind(b")") + 2:][:1] == b"Z":
            return False  # dead, only waiting to be reaped
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except OSError:
        return True
    if not cmd:
        return True
    if b"hotfix_tui.deploy.runner" not in cmd:
        return False
    return deploy_id is None or f"--deploy\0{deploy_id}\0".encode() in cmd + b"\0"


def runner_lost(row, now=None) -> bool:
    """True when a `running` row has no live runner behind it."""
    if row["status"] != "running":
        return False
    now = now or utcnow()
    age = now - parse_iso(row["heartbeat_at"] or row["started_at"])
    if row["pid"] is None:
        # still starting: its worktree is being checked out; the runner has not claimed it
        return age > STARTING_GRACE
    if age > LOST_AFTER:
        return True
    if age > STALE_AFTER and (not row["host"] or row["host"] == HOST):
        return not pid_alive(row["pid"], row["id"])
    return False


def effective_status(row, now=None) -> RunStatus:
    """What every reader shows: a dead runner is `interrupted`, never `running`."""
    if runner_lost(row, now):
        return RunStatus.INTERRUPTED
    return RunStatus(row["status"])


def orphaned_runs(store: Store, env: str) -> list:
    """Interrupted runs on `env` with a process still alive on this host: their runner
    died, but what their command started did not (deploy/procs.py: its group, its
    marker, its cgroup). Nothing else may run there until they stop."""
    rows = [r for r in store.all(
        "SELECT d.*, h.key AS hotfix_key FROM deploys d LEFT JOIN hotfixes h ON h.id = "
        "d.hotfix_id WHERE d.env = ? AND d.status = 'interrupted' AND d.pgid IS NOT NULL "
        "ORDER BY d.id DESC LIMIT 20", (env,)) if not r["host"] or r["host"] == HOST]
    marks = marked(r["marker"] for r in rows)
    return [r for r in rows if RunProcesses.of(r).alive(marks)]


def survivors_holding(store: Store, env: str) -> list[tuple]:
    """(run, its survivors still alive) for each run on `env` whose stop left processes
    it could not end (deploy/procs.py). A survivor on another host cannot be looked at
    from here: it holds until cleared."""
    out = []
    for r in store.all("SELECT d.*, h.key AS hotfix_key FROM deploys d LEFT JOIN hotfixes h "
                       "ON h.id = d.hotfix_id WHERE d.env = ? AND d.survivors <> '[]' "
                       "ORDER BY d.id DESC", (env,)):
        here = not r["host"] or r["host"] == HOST
        left = [s for s in survivors_of(r) if not here or s.alive()]
        if left:
            out.append((r, left))
    return out


def incident_of(store: Store, row) -> str | None:
    """The incident key of a run's hotfix (None for a run of no hotfix)."""
    if row["hotfix_id"] is None:
        return None
    return store.scalar("SELECT i.key FROM hotfixes h JOIN incidents i ON i.id = h.incident_id "
                        "WHERE h.id = ?", (row["hotfix_id"],))


def release_worktree(repo: str | os.PathLike | None, row) -> bool:
    """Remove a finished run's worktree, and its registration in the repository, once
    nothing of the run runs there any more (a survivor, an orphaned command or a daemon
    it started keeps it); True when it is gone."""
    workdir = row["workdir"]
    if not workdir or not Path(workdir).exists():
        return True
    if not repo or not anchor.is_worktree(workdir) or row["status"] == "running":
        return False
    if (row["host"] and row["host"] != HOST) or RunProcesses.of(row).alive():
        return False
    from .. import gitops  # (every read reaps through this module; none removes a worktree)

    gitops.remove_worktree(Path(repo), Path(workdir))
    return not Path(workdir).exists()


def worktree_settled(row) -> bool:
    """Has a finished run's runner done with its worktree? True once the worktree is
    gone, or nobody here is going to remove it (the runner is gone or on another host,
    or something of the run still runs there and keeps it)."""
    workdir = row["workdir"]
    if not workdir or not Path(workdir).exists():
        return True
    if (row["host"] and row["host"] != HOST) or not pid_alive(row["pid"], row["id"]):
        return True
    return RunProcesses.of(row).alive()


# ---- the end of a run ----------------------------------------------------------------

def _anchor_through_run(store: Store, deploy_id: int) -> None:
    """The outcome's events are anchored in the repository as every change's are
    (hotfix_tui.anchor), through the run's own worktree."""
    workdir = store.scalar("SELECT workdir FROM deploys WHERE id = ?", (deploy_id,))
    if anchor.is_worktree(workdir):  # else: the next change anchors these events
        anchor.install(store, Path(workdir))


def finish_run(store: Store, deploy_id: int, status: str | RunStatus, *,
               exit_code: int | None = None, signal: int | None = None,
               now: str | None = None, actor: Actor | None = None,
               note: str = "", survivors: list[dict] | None = None) -> bool:
    """Record the outcome of a run once, and settle what it means; False if it was
    already finished. `survivors`: processes of it that could not be stopped
    (deploy/procs.py), recorded with their own event; they hold the environment."""
    status = RunStatus(status)
    now = now or iso(utcnow())
    if not store.after_commit:  # the runner's own store: anchor through the run's worktree
        _anchor_through_run(store, deploy_id)
    with store.write():
        row = run_row(store, deploy_id)
        if row["status"] != "running":
            return False
        who = actor or Actor(row["started_by"], bool(row["started_by_verified"]))
        store.execute(
            "UPDATE deploys SET status = ?, exit_code = ?, signal = ?, finished_at = ? "
            "WHERE id = ?",
            (str(status), exit_code, signal, now, deploy_id),
        )
        incident = incident_of(store, row)
        audit.append(store, who, now, "deploy", row["key"], f"{row['kind']}.{status}",
                     before={"status": "running"},
                     after={"status": str(status), "exit_code": exit_code, "signal": signal,
                            "env": row["env"], "version": row["version"], "sha": row["sha"]},
                     incident=incident, hotfix=row["hotfix_key"], note=note or None)
        if survivors:
            record_survivors(store, row, survivors, now, who, incident)
        settle(store, row, status, now, who, incident)
    reserve.release(reserve.path_for(store.path, row["key"]))
    return True


def record_survivors(store: Store, row, survivors: list[dict], now: str, who: Actor,
                     incident: str | None, action: str = "deploy.survivors",
                     reason: str = "") -> None:
    """What is left of run `row` after its stop (inside store.write()): processes it
    could not end, which hold its environment (`deploy.survivors`); fewer of them once
    some are gone (`deploy.survivors_stopped`), or none once a person clears them
    (`deploy.survivors_cleared`, with why)."""
    before = json.loads(row["survivors"] or "[]")
    store.execute("UPDATE deploys SET survivors = ? WHERE id = ?",
                  (json.dumps(survivors, sort_keys=True), row["id"]))
    audit.append(store, who, now, "deploy", row["key"], action,
                 before={"survivors": before} if before else None,
                 after={"env": row["env"], "survivors": survivors, "reason": reason or None},
                 incident=incident, hotfix=row["hotfix_key"])


def settle(store: Store, row, status: RunStatus, now: str, who: Actor,
           incident: str | None) -> None:
    """What a finished run means: the environment's release, the hotfix's verification
    on that environment, then the hotfix's state. The one place that decides deployed,
    failed, rolled back and verified after a run."""
    kind = RunKind(row["kind"])
    ok = status is RunStatus.SUCCEEDED
    if kind in (RunKind.DEPLOY, RunKind.ROLLBACK) and ok:
        _record_release(store, row, now, who, incident)
    if row["hotfix_id"] is None:
        return
    if kind is RunKind.VERIFY:
        _settle_verify(store, row, status, now, who)
        return
    rolled_back_later = False
    if kind is RunKind.ROLLBACK and ok:
        verifications.mark_rolled_back(store, row["hotfix_id"], row["env"],
                                       row["previous_sha"], row["id"])
        rolled_back_later = verification.runs_later(store, row)
    h = store.one("SELECT h.*, i.key AS incident_key FROM hotfixes h JOIN incidents i "
                  "ON i.id = h.incident_id WHERE h.id = ?", (row["hotfix_id"],))
    target = hotfix_after_run(kind, ok, HotfixState(h["state"]))
    if target is not None and not rolled_back_later:
        rolled_back = target is HotfixState.ROLLED_BACK
        verification.move_hotfix(store, h, target, now, who,
                                 "hotfix.rolled_back" if rolled_back else "hotfix.state",
                                 cause=row["key"], reason=row["reason"] or None,
                                 after={"env": row["env"]})
    if kind is RunKind.DEPLOY and ok:
        verification.after_deploy(store, row, now, who)


def _settle_verify(store: Store, row, status: RunStatus, now: str, who: Actor) -> None:
    """A verify run passed (verified once the manual items are ticked too) or failed
    (failed on its environment; cancelled and interrupted runs decide nothing)."""
    if status is RunStatus.SUCCEEDED:
        verification.maybe_verified(store, row["hotfix_id"], row["env"], now, who,
                                    needs_run=True, gate_env=row["gate_env"])
    elif status in (RunStatus.FAILED, RunStatus.TIMED_OUT):
        verification.unverified(store, row["hotfix_id"], row["env"],
                                VerificationState.FAILED, now, who, row["gate_env"],
                                run_id=row["id"], cause=row["key"], sha=row["sha"])


def hotfix_after_run(kind: RunKind, ok: bool, current: HotfixState) -> HotfixState | None:
    """The hotfix state a finished deploy or rollback leads to (None: it stays)."""
    if kind is RunKind.DEPLOY and current is HotfixState.DEPLOYING:
        return HotfixState.DEPLOYED if ok else HotfixState.FAILED
    if kind is RunKind.ROLLBACK and ok and HotfixState.ROLLED_BACK in HOTFIX_TRANSITIONS[current]:
        return HotfixState.ROLLED_BACK
    return None


def _record_release(store: Store, row, now: str, who: Actor, incident: str | None) -> None:
    """A deploy or rollback that succeeded: the environment now runs its release."""
    before = records.environment_row(store, row["env"])
    store.execute(
        "INSERT INTO environments (name, version, sha, deployed_by, deployed_by_verified, "
        "deployed_at, deploy_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET version = excluded.version, sha = excluded.sha, "
        "deployed_by = excluded.deployed_by, deployed_by_verified = "
        "excluded.deployed_by_verified, deployed_at = excluded.deployed_at, "
        "deploy_id = excluded.deploy_id",
        (row["env"], row["version"], row["sha"], row["started_by"],
         row["started_by_verified"], now, row["id"]),
    )
    audit.append(store, who, now, "environment", row["env"], "environment.deployed",
                 before={"version": before["version"] if before else None,
                         "sha": before["sha"] if before else None},
                 after={"version": row["version"], "sha": row["sha"], "deploy": row["key"]},
                 incident=incident, hotfix=row["hotfix_key"])


def reap_lost_runs(store: Store, actor: Actor, now=None) -> list[str]:
    """Mark every run whose runner is gone as `interrupted`; returns their keys."""
    if store.readonly or store.path == ":memory:":
        return []
    now_dt = now or utcnow()
    rows = store.all("SELECT d.*, h.key AS hotfix_key FROM deploys d "
                     "LEFT JOIN hotfixes h ON h.id = d.hotfix_id WHERE d.status = 'running'")
    return [r["key"] for r in rows if runner_lost(r, now_dt) and finish_run(
        store, r["id"], RunStatus.INTERRUPTED, now=iso(now_dt), actor=actor,
        note="runner gone: outcome unknown")]
