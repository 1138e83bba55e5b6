"""Typed reads and writes: rows in, core models out."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..core.errors import NotFound
from ..core.models import (
    Approval,
    ChecklistItem,
    Hotfix,
    HotfixState,
    Incident,
    IncidentStatus,
)
from ..core.workflow import parse_key
from .db import Store


def incident_from_row(r: sqlite3.Row) -> Incident:
    return Incident(
        key=r["key"],
        title=r["title"],
        severity=r["severity"],
        status=IncidentStatus(r["status"]),
        service=r["service"],
        commander=r["commander"],
        opened_by=r["opened_by"],
        opened_by_verified=bool(r["opened_by_verified"]),
        opened_at=r["opened_at"],
        mitigated_at=r["mitigated_at"],
        resolved_at=r["resolved_at"],
    )


def incident_row(store: Store, key: str) -> sqlite3.Row:
    n = parse_key(key, "INC")
    row = store.one("SELECT * FROM incidents WHERE id = ?", (n,))
    if row is None:
        raise NotFound(f"unknown incident INC-{n}")
    return row


def get_incident(store: Store, key: str) -> Incident:
    return incident_from_row(incident_row(store, key))


def list_incidents(store: Store, include_resolved: bool = False,
                   limit: int | None = None) -> list[Incident]:
    sql = "SELECT * FROM incidents"
    if not include_resolved:
        sql += " WHERE status <> 'resolved'"
    sql += " ORDER BY severity, id DESC" if not include_resolved else " ORDER BY id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [incident_from_row(r) for r in store.all(sql)]


def insert_incident(store: Store, values: dict[str, Any]) -> Incident:
    n = store.next_id("incidents")
    store.insert("incidents", {"id": n, "key": f"INC-{n}", **values})
    return get_incident(store, f"INC-{n}")


# ---- hotfixes ----------------------------------------------------------------

def approval_from_row(r: sqlite3.Row) -> Approval:
    return Approval(
        approver=r["approver"],
        approver_verified=bool(r["approver_verified"]),
        decision=r["decision"],
        sha=r["head_sha"],
        tree_sha=r["tree_sha"],
        checklist_hash=r["checklist_hash"],
        config_hash=r["config_hash"],
        stale=bool(r["stale"]),
        stale_reason=r["stale_reason"],
        at=r["at"],
        comment=r["comment"],
        retroactive=bool(r["retroactive"]),
        doc_hash=r["doc_hash"],
        signature=r["signature"],
        signature_version=r["signature_version"],
        repository=r["repository"],
    )


def checklist_from_row(r: sqlite3.Row) -> ChecklistItem:
    return ChecklistItem(
        n=r["n"],
        text=r["text"],
        automatic=False,
        checked=bool(r["checked"]),
        checked_by=r["checked_by"],
        checked_by_verified=bool(r["checked_by_verified"]),
        checked_at=r["checked_at"],
    )


def hotfix_from_row(r: sqlite3.Row, approvals=(), checklist=(),
                    last_deploy_status: str | None = None) -> Hotfix:
    return Hotfix(
        key=r["key"],
        incident=r["incident_key"],
        title=r["title"],
        author=r["author"],
        author_verified=bool(r["author_verified"]),
        base_ref=r["base_ref"],
        base_sha=r["base_sha"],
        branch=r["branch"],
        worktree=r["worktree"],
        head_sha=r["head_sha"],
        version=r["version"],
        state=HotfixState(r["state"]),
        why=r["why"],
        risk=r["risk"],
        test_plan=r["test_plan"],
        rollback_plan=r["rollback_plan"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        scope_accepted_reason=r["scope_accepted_reason"],
        break_glass=bool(r["break_glass"]),
        break_glass_reason=r["break_glass_reason"],
        needs_retroactive_approval=bool(r["needs_retroactive_approval"]),
        skip_verify_reason=r["skip_verify_reason"],
        tag=r["tag"],
        approvals=tuple(approvals),
        checklist=tuple(checklist),
        last_deploy_status=last_deploy_status,
    )


_HOTFIX_SELECT = """
SELECT h.*, i.key AS incident_key,
  (SELECT d.status FROM deploys d WHERE d.hotfix_id = h.id AND d.kind <> 'verify'
   ORDER BY d.id DESC LIMIT 1) AS last_deploy_status
FROM hotfixes h JOIN incidents i ON i.id = h.incident_id
"""


def hotfix_row(store: Store, key: str) -> sqlite3.Row:
    n = parse_key(key, "HF")
    row = store.one(_HOTFIX_SELECT + " WHERE h.id = ?", (n,))
    if row is None:
        raise NotFound(f"unknown hotfix HF-{n}")
    return row


def approvals_for(store: Store, hotfix_id: int) -> list[Approval]:
    rows = store.all("SELECT * FROM approvals WHERE hotfix_id = ? ORDER BY id", (hotfix_id,))
    return [approval_from_row(r) for r in rows]


def checklist_for(store: Store, hotfix_id: int, kind: str = "scope",
                  env: str = "") -> list[ChecklistItem]:
    rows = store.all(
        "SELECT * FROM checklist_items WHERE hotfix_id = ? AND kind = ? AND env = ? ORDER BY n",
        (hotfix_id, kind, env),
    )
    return [checklist_from_row(r) for r in rows]


def get_hotfix(store: Store, key: str, detail: bool = True) -> Hotfix:
    row = hotfix_row(store, key)
    if not detail:
        return hotfix_from_row(row, last_deploy_status=row["last_deploy_status"])
    return hotfix_from_row(
        row,
        approvals_for(store, row["id"]),
        checklist_for(store, row["id"]),
        row["last_deploy_status"],
    )


def list_hotfixes(
    store: Store,
    *,
    state: str | None = None,
    incident: str | None = None,
    active_only: bool = False,
    limit: int | None = None,
) -> list[Hotfix]:
    where: list[str] = []
    params: list[Any] = []
    if state:
        where.append("h.state = ?")
        params.append(state)
    if incident:
        where.append("h.incident_id = ?")
        params.append(parse_key(incident, "INC"))
    if active_only:
        where.append("h.state NOT IN ('finished', 'abandoned')")
    sql = _HOTFIX_SELECT
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY h.id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    rows = store.all(sql, tuple(params))
    out = []
    for r in rows:
        out.append(hotfix_from_row(r, approvals_for(store, r["id"]), (),
                                   r["last_deploy_status"]))
    return out
