"""How a run's end changes the world: the deploy row, the environment, the hotfix.

Called by the runner process when its child exits, and by any command that
finds a runner gone. Every effect and its audit event commit together.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from ..clock import iso, parse_iso, utcnow
from ..core.models import Actor, HotfixState, RunKind, RunStatus
from ..core.workflow import HOTFIX_TRANSITIONS, check_hotfix_transition
from ..store import audit
from ..store.db import Store
from ..store.runs import run_row

# A runner writes its heartbeat at least every second. Past STALE_AFTER with its
# pid gone (same host) or past LOST_AFTER whatever the pid, its outcome is unknown.
STALE_AFTER = timedelta(seconds=4)
LOST_AFTER = timedelta(seconds=90)
STARTING_GRACE = timedelta(seconds=180)
HOST = socket.gethostname()


def _pid_alive(pid: int | None, deploy_id: int | None = None) -> bool:
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
    beat = parse_iso(row["heartbeat_at"] or row["started_at"])
    age = now - beat
    if row["pid"] is None:
        # still starting: its worktree is being checked out; the runner has not claimed it
        return age > STARTING_GRACE
    if age > LOST_AFTER:
        return True
    if age > STALE_AFTER:
        if row["host"] and row["host"] != HOST:
            return False
        return not _pid_alive(row["pid"], row["id"])
    return False


def effective_status(row, now=None) -> RunStatus:
    """What every reader shows: a dead runner is `interrupted`, never `running`."""
    if runner_lost(row, now):
        return RunStatus.INTERRUPTED
    return RunStatus(row["status"])


def finish_run(store: Store, deploy_id: int, status: str | RunStatus, *,
               exit_code: int | None = None, signal: int | None = None,
               now: str | None = None, actor: Actor | None = None,
               note: str = "") -> bool:
    """Record the outcome of a run once; False if it was already finished."""
    status = RunStatus(status)
    now = now or iso(utcnow())
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
        hotfix_key = row["hotfix_key"]
        incident = None
        if row["hotfix_id"] is not None:
            incident = store.scalar(
                "SELECT i.key FROM hotfixes h JOIN incidents i ON i.id = h.incident_id "
                "WHERE h.id = ?", (row["hotfix_id"],))
        audit.append(store, who, now, "deploy", row["key"], f"{row['kind']}.{status}",
                     before={"status": "running"},
                     after={"status": str(status), "exit_code": exit_code, "signal": signal,
                            "env": row["env"], "version": row["version"], "sha": row["sha"]},
                     incident=incident, hotfix=hotfix_key, note=note or None)
        _apply_outcome(store, row, status, now, who, incident)
    return True


def _apply_outcome(store: Store, row, status: RunStatus, now: str, who: Actor,
                   incident: str | None) -> None:
    kind = RunKind(row["kind"])
    ok = status is RunStatus.SUCCEEDED
    if kind in (RunKind.DEPLOY, RunKind.ROLLBACK) and ok:
        before = store.one("SELECT * FROM environments WHERE name = ?", (row["env"],))
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
                     after={"version": row["version"], "sha": row["sha"],
                            "deploy": row["key"]},
                     incident=incident, hotfix=row["hotfix_key"])
    if row["hotfix_id"] is None:
        return
    if kind is RunKind.VERIFY:
        if ok:
            from .deploys import maybe_verified

            maybe_verified(store, row["hotfix_id"], row["env"], now, who,
                           verify_configured=True)
        return
    h = store.one("SELECT id, key, state FROM hotfixes WHERE id = ?", (row["hotfix_id"],))
    current = HotfixState(h["state"])
    target: HotfixState | None = None
    if kind is RunKind.DEPLOY and current is HotfixState.DEPLOYING:
        target = HotfixState.DEPLOYED if ok else HotfixState.FAILED
    elif kind is RunKind.ROLLBACK and ok and \
            HotfixState.ROLLED_BACK in HOTFIX_TRANSITIONS[current]:
        target = HotfixState.ROLLED_BACK
    if target is None:
        return
    check_hotfix_transition(h["key"], current, target)
    store.execute("UPDATE hotfixes SET state = ?, updated_at = ? WHERE id = ?",
                  (str(target), now, h["id"]))
    rolled_back = target is HotfixState.ROLLED_BACK
    audit.append(store, who, now, "hotfix", h["key"],
                 "hotfix.rolled_back" if rolled_back else "hotfix.state",
                 before={"state": str(current)}, after={"state": str(target)},
                 incident=incident, hotfix=h["key"], cause=row["key"],
                 reason=row["reason"] or None)


def reap_in(ctx, store: Store) -> list[str]:
    """reap_lost_runs as `ctx.actor`, unless this context only browses (ctx.readonly)."""
    return [] if ctx.readonly else reap_lost_runs(store, ctx.actor)


def reap(ctx) -> list[str]:
    """Open the database and record every run whose runner is gone as interrupted, so no
    reader shows a hotfix `deploying` for a deploy nobody is running."""
    with ctx.open(create=False) as store:
        return reap_in(ctx, store)


def reap_lost_runs(store: Store, actor: Actor, now=None) -> list[str]:
    """Mark every run whose runner is gone as `interrupted`; returns their keys."""
    if store.readonly or store.path == ":memory:":
        return []
    now_dt = now or utcnow()
    rows = store.all("SELECT d.*, h.key AS hotfix_key FROM deploys d "
                     "LEFT JOIN hotfixes h ON h.id = d.hotfix_id WHERE d.status = 'running'")
    lost = [r for r in rows if runner_lost(r, now_dt)]
    done = []
    for r in lost:
        if finish_run(store, r["id"], RunStatus.INTERRUPTED, now=iso(now_dt), actor=actor,
                      note="runner gone: outcome unknown"):
            done.append(r["key"])
    return done
