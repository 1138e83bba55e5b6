"""Verification per environment: when a hotfix counts as verified on an environment,
when it stops counting, and what that means for the hotfix as a whole.

A hotfix has its own verification on each environment it was deployed to (pending,
passed, failed; `store/verifications.py`). The hotfix is `verified` once the
environment a finish requires (the production environment, or the last one in
promotion order: the run's `gate_env`) passed; a pass anywhere else is recorded for
that environment only. Called by `lifecycle.settle` when a run ends, and by the
verify service when a manual item is ticked or unticked; every change comes with its
audit event, in the caller's transaction.
"""

from __future__ import annotations

import json

from ..core.models import Actor, HotfixState, VerificationState
from ..core.workflow import check_hotfix_transition
from ..store import audit, records, verifications
from ..store.db import Store


def is_gate(env: str, gate_env: str) -> bool:
    """Does verifying `env` verify the hotfix? ('' : a run from before per-environment
    verification, when any environment did.)"""
    return not gate_env or env == gate_env


def _hotfix(store: Store, hotfix_id: int):
    return store.one("SELECT h.*, i.key AS incident_key FROM hotfixes h JOIN incidents i "
                     "ON i.id = h.incident_id WHERE h.id = ?", (hotfix_id,))


def move_hotfix(store: Store, h, target: HotfixState, now: str, who: Actor,
                action: str = "hotfix.state", **extra) -> None:
    """Move hotfix row `h` to `target` (a legal transition), with its audit event."""
    current = HotfixState(h["state"])
    check_hotfix_transition(h["key"], current, target)
    store.execute("UPDATE hotfixes SET state = ?, updated_at = ? WHERE id = ?",
                  (str(target), now, h["id"]))
    after = {"state": str(target), **extra.pop("after", {})}
    audit.append(store, who, now, "hotfix", h["key"], action,
                 before={"state": str(current)}, after=after,
                 incident=h["incident_key"], hotfix=h["key"],
                 **{k: v for k, v in extra.items() if v is not None})


def _check_passed(store: Store, hotfix_id: int, env: str, head: str) -> int | None:
    """The id of a verify run that passed on `env` at `head` since the deploy there."""
    return store.scalar(
        "SELECT d.id FROM deploys d JOIN env_verifications v ON v.hotfix_id = d.hotfix_id "
        "AND v.env = d.env WHERE d.hotfix_id = ? AND d.env = ? AND d.kind = 'verify' AND "
        "d.status = 'succeeded' AND d.sha = ? AND d.id > coalesce(v.deploy_id, 0) "
        "ORDER BY d.id DESC LIMIT 1", (hotfix_id, env, head))


def maybe_verified(store: Store, hotfix_id: int, env: str, now: str, actor: Actor,
                   needs_run: bool, gate_env: str) -> bool:
    """Passed on `env` once the hotfix's head runs there, its verify run (if
    `needs_run`) passed since that deploy and every manual item of `env` is ticked; the
    hotfix is `verified` when `env` is the gate. True if it is passed on `env`."""
    h = _hotfix(store, hotfix_id)
    v = verifications.one(store, hotfix_id, env)
    if v is None or v.sha != h["head_sha"] or v.rolled_back_by:
        return False
    if v.state is VerificationState.PASSED:
        return True
    if any(not i.checked for i in records.checklist_for(store, hotfix_id, "verify", env)):
        return False
    run_id = _check_passed(store, hotfix_id, env, h["head_sha"]) if needs_run else None
    if needs_run and run_id is None:
        return False
    verifications.set_state(store, hotfix_id, env, VerificationState.PASSED, now, actor,
                            run_id)
    detail = {"env": env, "sha": v.sha, "version": v.version}
    if is_gate(env, gate_env) and h["state"] == str(HotfixState.DEPLOYED):
        move_hotfix(store, h, HotfixState.VERIFIED, now, actor, "hotfix.verified",
                    after=detail)
    else:
        audit.append(store, actor, now, "hotfix", h["key"], "verify.passed", after=detail,
                     incident=h["incident_key"], hotfix=h["key"])
    return True


def unverified(store: Store, hotfix_id: int, env: str, state: VerificationState, now: str,
               actor: Actor, gate_env: str, run_id: int | None = None,
               cause: str | None = None, sha: str | None = None) -> None:
    """The verification on `env` no longer holds (an item unticked: pending; a check of
    `sha` that failed: failed). A hotfix verified by it is `deployed` again. The caller's
    audit event (the item, or the run's end) records why, and is what the audit chain
    reads this change from (core.integrity)."""
    h = _hotfix(store, hotfix_id)
    v = verifications.one(store, hotfix_id, env)
    if v is None or v.rolled_back_by or v.state is state or (sha and v.sha != sha):
        return
    verifications.set_state(store, hotfix_id, env, state, now, run_id=run_id)
    if is_gate(env, gate_env) and h["state"] == str(HotfixState.VERIFIED):
        move_hotfix(store, h, HotfixState.DEPLOYED, now, actor, after={"env": env},
                    cause=cause)


def after_deploy(store: Store, row, now: str, who: Actor) -> None:
    """A deploy of a hotfix succeeded on `row['env']`: its verification there starts
    over; a hotfix whose gate environment is still verified on this content stays
    verified (say, staging redeployed after production passed)."""
    hid = row["hotfix_id"]
    verifications.record_deployed(store, hid, row["env"], row["sha"], row["version"],
                                  row["id"], now)
    gate = row["gate_env"]
    if not gate or gate == row["env"]:
        return
    h = _hotfix(store, hid)
    v = verifications.one(store, hid, gate)
    if h["state"] == str(HotfixState.DEPLOYED) and v is not None and \
            v.state is VerificationState.PASSED and v.sha == h["head_sha"] and \
            v.rolled_back_by is None:
        move_hotfix(store, h, HotfixState.VERIFIED, now, who, after={"env": gate},
                    cause=row["key"])


def runs_later(store: Store, row) -> bool:
    """After a rollback of `row['env']`: does an environment later in the release path
    still run the hotfix? Then the hotfix is not rolled back, only this environment."""
    for env in json.loads(row["later_envs"] or "[]"):
        v = verifications.one(store, row["hotfix_id"], env)
        current = records.environment_row(store, env)
        if v is not None and v.rolled_back_by is None and current is not None and \
                current["sha"] == v.sha:
            return True
    return False
