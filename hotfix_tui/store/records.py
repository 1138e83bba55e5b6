"""Typed reads and writes: rows in, core models out."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..core import approval as appr
from ..core.errors import UnknownKey
from ..core.models import (
    Approval,
    ChecklistItem,
    Hotfix,
    Incident,
)
from ..core.workflow import parse_key
from . import verifications
from .audit import approval_events
from .db import Store
from .rows import from_row


def incident_from_row(r: sqlite3.Row) -> Incident:
    return from_row(Incident, r)


def incident_row(store: Store, key: str) -> sqlite3.Row:
    n = parse_key(key, "INC")
    row = store.one("SELECT * FROM incidents WHERE id = ?", (n,))
    if row is None:
        raise UnknownKey("incident", f"INC-{n}")
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


def environment_row(store: Store, name: str) -> sqlite3.Row | None:
    """What `environments` records for `name` (None before its first deploy or adopt)."""
    return store.one("SELECT * FROM environments WHERE name = ?", (name,))


def insert_incident(store: Store, values: dict[str, Any]) -> Incident:
    n = store.next_id("incidents")
    store.insert("incidents", {"id": n, "key": f"INC-{n}", **values})
    return get_incident(store, f"INC-{n}")


# ---- hotfixes ----------------------------------------------------------------

def approval_from_row(r: sqlite3.Row) -> Approval:
    return from_row(Approval, r, {"sha": "head_sha"})


def checklist_from_row(r: sqlite3.Row) -> ChecklistItem:
    return from_row(ChecklistItem, r, automatic=False)


def hotfix_from_row(r: sqlite3.Row, approvals=(), checklist=(),
                    last_deploy_status: str | None = None, environments=()) -> Hotfix:
    return from_row(Hotfix, r, {"incident": "incident_key"}, approvals=tuple(approvals),
                    checklist=tuple(checklist), last_deploy_status=last_deploy_status,
                    environments=tuple(environments))


_HOTFIX_COLUMNS = """
SELECT h.*, i.key AS incident_key,
  (SELECT d.status FROM deploys d WHERE d.hotfix_id = h.id AND d.kind <> 'verify'
   ORDER BY d.id DESC LIMIT 1) AS last_deploy_status
"""
_HOTFIX_SELECT = _HOTFIX_COLUMNS + "FROM hotfixes h JOIN incidents i ON i.id = h.incident_id\n"
# Hotfixes read off the full-text index in its own order (rowid = hotfix id, newest first
# with ORDER BY f.rowid DESC): a page of a common word's matches costs a page of them, not
# every match (`WHERE hotfix_search MATCH ?` goes with it).
HOTFIX_SEARCH_SELECT = _HOTFIX_COLUMNS + (
    "FROM hotfix_search f CROSS JOIN hotfixes h ON h.id = f.rowid "
    "JOIN incidents i ON i.id = h.incident_id\n")


def hotfix_row(store: Store, key: str) -> sqlite3.Row:
    n = parse_key(key, "HF")
    row = store.one(_HOTFIX_SELECT + " WHERE h.id = ?", (n,))
    if row is None:
        raise UnknownKey("hotfix", f"HF-{n}")
    return row


def approvals_for(store: Store, row: sqlite3.Row,
                  policy: appr.Policy = appr.STRICT) -> tuple[Approval, ...]:
    """The hotfix's approvals, each checked against the audit chain (`backed`) and judged
    by the two-person rule (`counts`, `not_counted`)."""
    return approvals_of(store, [row], policy)[row["id"]]


def approvals_of(store: Store, rows: list[sqlite3.Row],
                 policy: appr.Policy = appr.STRICT) -> dict[int, tuple[Approval, ...]]:
    """approvals_for for several hotfixes, in two queries whatever their number."""
    out: dict[int, tuple[Approval, ...]] = {}
    if not rows:
        return out
    ids = [r["id"] for r in rows]
    found: dict[int, list[Approval]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):  # within SQLite's limit on parameters
        part = ids[start:start + 500]
        marks = ", ".join("?" for _ in part)
        for r in store.all(f"SELECT * FROM approvals WHERE hotfix_id IN ({marks}) "
                           "ORDER BY id", tuple(part)):
            found[r["hotfix_id"]].append(approval_from_row(r))
    with_any = [r["key"] for r in rows if found[r["id"]]]
    events = approval_events(store, with_any)
    for r in rows:
        mine = found[r["id"]]
        problems = appr.chain_problems(mine, r["key"], events.get(r["key"], [])) if mine \
            else {}
        out[r["id"]] = appr.judge(appr.Author(r["author"], r["author_account"]), mine, policy,
                                  problems)
    return out


def checklist_for(store: Store, hotfix_id: int, kind: str = "scope",
                  env: str = "") -> list[ChecklistItem]:
    rows = store.all(
        "SELECT * FROM checklist_items WHERE hotfix_id = ? AND kind = ? AND env = ? ORDER BY n",
        (hotfix_id, kind, env),
    )
    return [checklist_from_row(r) for r in rows]


def get_hotfix(store: Store, key: str, detail: bool = True,
               policy: appr.Policy = appr.STRICT) -> Hotfix:
    row = hotfix_row(store, key)
    if not detail:
        return hotfix_from_row(row, last_deploy_status=row["last_deploy_status"])
    return hotfix_from_row(
        row,
        approvals_for(store, row, policy),
        checklist_for(store, row["id"]),
        row["last_deploy_status"],
        verifications.of_hotfix(store, row["id"]).values(),
    )


def list_hotfixes(
    store: Store,
    *,
    state: str | None = None,
    incident: str | None = None,
    active_only: bool = False,
    limit: int | None = None,
    policy: appr.Policy = appr.STRICT,
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
    return _hotfixes_of_rows(store, store.all(sql, tuple(params)), policy)


def newest_hotfixes(store: Store, incidents: list[str], per: int,
                    policy: appr.Policy = appr.STRICT) -> dict[str, list[Hotfix]]:
    """Incident key → its `per` newest hotfixes (newest first), as list_hotfixes gives
    them for one incident, for many incidents in a few queries whatever their number."""
    ids: list[int] = []
    for key in incidents:  # each takes `per` entries of the index, however many it has
        ids += [r[0] for r in store.all(
            "SELECT id FROM hotfixes WHERE incident_id = ? ORDER BY id DESC LIMIT ?",
            (parse_key(key, "INC"), per))]
    rows: list[sqlite3.Row] = []
    for start in range(0, len(ids), 500):  # within SQLite's limit on parameters
        part = ids[start:start + 500]
        rows += store.all(_HOTFIX_SELECT + f" WHERE h.id IN ({', '.join('?' * len(part))})",
                          tuple(part))
    rows.sort(key=lambda r: r["id"], reverse=True)
    out: dict[str, list[Hotfix]] = {key: [] for key in incidents}
    for hf in _hotfixes_of_rows(store, rows, policy):
        out[hf.incident].append(hf)
    return out


def _hotfixes_of_rows(store: Store, rows: list[sqlite3.Row],
                      policy: appr.Policy) -> list[Hotfix]:
    approvals = approvals_of(store, rows, policy)
    where: dict[int, list] = {}
    for start in range(0, len(rows), 500):
        where.update(verifications.of_hotfixes(store, [r["id"] for r in rows[start:
                                                                          start + 500]]))
    return [hotfix_from_row(r, approvals[r["id"]], (), r["last_deploy_status"],
                            where.get(r["id"], ())) for r in rows]
