"""Rows of `env_verifications`: a hotfix on each environment it was deployed to."""

from __future__ import annotations

import sqlite3

from ..core.models import Actor, EnvVerification, VerificationState
from .db import Store
from .rows import from_row

_SELECT = """
SELECT v.*, d.key AS deploy, r.key AS run, b.key AS rolled_back_by
FROM env_verifications v
LEFT JOIN deploys d ON d.id = v.deploy_id
LEFT JOIN deploys r ON r.id = v.run_id
LEFT JOIN deploys b ON b.id = v.rollback_id
"""


def from_db(row: sqlite3.Row) -> EnvVerification:
    return from_row(EnvVerification, row)


def of_hotfix(store: Store, hotfix_id: int) -> dict[str, EnvVerification]:
    """Environment name → the hotfix's record there."""
    rows = store.all(_SELECT + " WHERE v.hotfix_id = ? ORDER BY v.deployed_at",
                     (hotfix_id,))
    return {r["env"]: from_db(r) for r in rows}


def of_hotfixes(store: Store, ids: list[int]) -> dict[int, list[EnvVerification]]:
    """Hotfix id → its records, for a page of hotfixes in one query."""
    out: dict[int, list[EnvVerification]] = {}
    if not ids:
        return out
    marks = ", ".join("?" * len(ids))
    for r in store.all(_SELECT + f" WHERE v.hotfix_id IN ({marks}) ORDER BY v.deployed_at",
                       tuple(ids)):
        out.setdefault(r["hotfix_id"], []).append(from_db(r))
    return out


def one(store: Store, hotfix_id: int, env: str) -> EnvVerification | None:
    row = store.one(_SELECT + " WHERE v.hotfix_id = ? AND v.env = ?", (hotfix_id, env))
    return from_db(row) if row is not None else None


def of_releases(store: Store) -> dict[str, tuple[str, EnvVerification]]:
    """Environment name → (hotfix key, its record) for the hotfix release each
    environment runs now (environments whose release is no hotfix's are left out)."""
    rows = store.all(
        _SELECT.replace("SELECT v.*", "SELECT v.*, h.key AS hotfix_key")
        + " JOIN environments e ON e.name = v.env JOIN deploys cur ON cur.id = e.deploy_id "
          "JOIN hotfixes h ON h.id = v.hotfix_id "
          "WHERE cur.hotfix_id = v.hotfix_id AND e.sha = v.sha AND v.rollback_id IS NULL")
    return {r["env"]: (r["hotfix_key"], from_db(r)) for r in rows}


def record_deployed(store: Store, hotfix_id: int, env: str, sha: str, version: str,
                    deploy_id: int, now: str) -> None:
    """A deploy of the hotfix to `env` succeeded: its verification there starts over
    (pending), and so do the manual items of `env`. Call inside store.write()."""
    store.execute(
        "INSERT INTO env_verifications (hotfix_id, env, sha, version, deploy_id, deployed_at, "
        "state, changed_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) "
        "ON CONFLICT (hotfix_id, env) DO UPDATE SET sha = excluded.sha, "
        "version = excluded.version, deploy_id = excluded.deploy_id, "
        "deployed_at = excluded.deployed_at, state = 'pending', "
        "changed_at = excluded.changed_at, verified_at = NULL, verified_by = NULL, "
        "verified_by_verified = 1, run_id = NULL, rollback_id = NULL",
        (hotfix_id, env, sha, version, deploy_id, now, now))
    store.execute("UPDATE checklist_items SET checked = 0, checked_by = NULL, checked_at = NULL "
                  "WHERE hotfix_id = ? AND kind = 'verify' AND env = ?", (hotfix_id, env))


def set_state(store: Store, hotfix_id: int, env: str, state: VerificationState, now: str,
              actor: Actor | None = None, run_id: int | None = None) -> None:
    """The verification on `env` is now `state` (`actor` passed it). Call inside
    store.write()."""
    passed = state is VerificationState.PASSED
    store.execute(
        "UPDATE env_verifications SET state = ?, changed_at = ?, verified_at = ?, "
        "verified_by = ?, verified_by_verified = ?, run_id = coalesce(?, run_id) "
        "WHERE hotfix_id = ? AND env = ?",
        (str(state), now, now if passed else None,
         actor.name if passed and actor else None,
         int(actor.verified) if passed and actor else 1, run_id, hotfix_id, env))


def mark_rolled_back(store: Store, hotfix_id: int, env: str, sha: str, rollback_id: int
                     ) -> bool:
    """A rollback took the hotfix's release (`sha`) away from `env`; True if the hotfix
    had it there. Call inside store.write()."""
    cur = store.execute("UPDATE env_verifications SET rollback_id = ? WHERE hotfix_id = ? AND "
                        "env = ? AND sha = ? AND rollback_id IS NULL",
                        (rollback_id, hotfix_id, env, sha))
    return cur.rowcount > 0
