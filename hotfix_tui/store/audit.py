"""The hash-chained, append-only audit trail.

Each row stores SHA-256 over the previous row's hash and its own canonical
JSON. Triggers refuse UPDATE and DELETE; verify() recomputes the chain so a
row changed behind the triggers' back is found and named.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..core.models import Actor, AuditEvent
from .db import Store

GENESIS = "0" * 64
_FIELDS = (
    "id", "at", "actor", "actor_verified", "entity", "entity_key", "action",
    "incident", "hotfix", "data",
)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# What an event fetched from another site adds to its row: where it comes from and its
# place in that site's chain, covered by the local hash too.
ORIGIN_FIELDS = ("origin", "seq", "site_prev", "site_hash", "seen")


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    import hashlib  # only a write or a verification hashes: reads never load it

    body = {k: row[k] for k in _FIELDS}
    if row.get("origin"):
        body.update({k: row[k] for k in ORIGIN_FIELDS})
    return hashlib.sha256((prev_hash + "\n" + canonical(body)).encode("utf-8")).hexdigest()


def site_hash(site_prev: str, seq: int, row: dict[str, Any]) -> str:
    """The event's hash in its site's own chain: the audit chain's formula over the site's
    events alone, numbered by `seq`."""
    return row_hash(site_prev, {**{k: row[k] for k in _FIELDS}, "id": seq})


def append(
    store: Store,
    actor: Actor,
    at: str,
    entity: str,
    entity_key: str,
    action: str,
    *,
    before: Any = None,
    after: Any = None,
    incident: str | None = None,
    hotfix: str | None = None,
    **extra: Any,
) -> AuditEvent:
    """Append one event. Call inside store.write(), with the change it records."""
    if not store.conn.in_transaction:
        raise RuntimeError("audit.append must run inside store.write()")
    last = store.one("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1")
    prev_hash = last["hash"] if last else GENESIS
    data = {"before": before, "after": after, **extra}
    if not actor.verified:
        data["os_account"] = actor.os_account
    row = {
        "id": (last["id"] + 1) if last else 1,
        "at": at,
        "actor": actor.name,
        "actor_verified": 1 if actor.verified else 0,
        "entity": entity,
        "entity_key": entity_key,
        "action": action,
        "incident": incident,
        "hotfix": hotfix,
        "data": canonical(data),
    }
    own = store.one("SELECT seq, site_hash FROM audit_events WHERE origin = '' "
                    "ORDER BY seq DESC LIMIT 1")
    row["seq"] = (own["seq"] + 1) if own else 1
    row["site_prev"] = own["site_hash"] if own else GENESIS
    row["site_hash"] = site_hash(row["site_prev"], row["seq"], row)
    row["prev_hash"] = prev_hash
    row["hash"] = row_hash(prev_hash, row)
    store.insert("audit_events", row)
    store.chain_moved = True
    return _event(row)


def first(store: Store):
    """The chain's first event (its hash names the chain), or None when it is empty."""
    return store.one("SELECT id, hash FROM audit_events ORDER BY id LIMIT 1")


def head(store: Store):
    """The chain's newest event (id and hash), or None when it is empty."""
    return store.one("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1")


def _event(row: dict[str, Any] | Any) -> AuditEvent:
    data = json.loads(row["data"])
    before = data.pop("before", None)
    after = data.pop("after", None)
    return AuditEvent(
        id=row["id"],
        at=row["at"],
        actor=row["actor"],
        actor_verified=bool(row["actor_verified"]),
        entity=row["entity"],
        entity_key=row["entity_key"],
        action=row["action"],
        before=before,
        after=after,
        incident=row["incident"],
        hotfix=row["hotfix"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        extra=data,
    )


def events(
    store: Store,
    *,
    incident: str | None = None,
    hotfix: str | None = None,
    after_id: int = 0,
    limit: int | None = None,
) -> list[AuditEvent]:
    where = ["id > ?"]
    params: list[Any] = [after_id]
    if incident is not None:
        where.append("incident = ?")
        params.append(incident)
    if hotfix is not None:
        where.append("hotfix = ?")
        params.append(hotfix)
    sql = f"SELECT * FROM audit_events WHERE {' AND '.join(where)} ORDER BY id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_event(r) for r in store.all(sql, tuple(params))]


def entity_events(store: Store, entity: str, key: str) -> list[AuditEvent]:
    rows = store.all("SELECT * FROM audit_events WHERE entity = ? AND entity_key = ? "
                     "ORDER BY id", (entity, key))
    return [_event(r) for r in rows]


def approval_events(store: Store, hotfixes: list[str]) -> dict[str, list[AuditEvent]]:
    """By hotfix, in chain order: the events that create an approval or change whether it
    counts."""
    out: dict[str, list[AuditEvent]] = {}
    for start in range(0, len(hotfixes), 500):  # within SQLite's limit on parameters
        part = hotfixes[start:start + 500]
        marks = ", ".join("?" for _ in part)
        for r in store.all(f"SELECT * FROM audit_events WHERE hotfix IN ({marks}) AND "
                           "(entity = 'approval' OR action = 'hotfix.rejected') ORDER BY id",
                           tuple(part)):
            out.setdefault(r["hotfix"], []).append(_event(r))
    return out


@dataclass(frozen=True)
class VerifyResult:
    """Whether the audit chain's hashes verify, and where they first do not."""

    ok: bool
    events: int
    bad_id: int | None = None
    problem: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "bad_id": self.bad_id,
                "problem": self.problem or None}


def verify(store: Store, batch: int = 5000) -> VerifyResult:
    """Recompute the chain from the first row; stop at the first row that does not fit."""
    prev_hash = GENESIS
    expected_id = 1
    count = 0
    last_id = 0
    while True:
        rows = store.all(
            "SELECT * FROM audit_events WHERE id > ? ORDER BY id LIMIT ?", (last_id, batch)
        )
        if not rows:
            break
        for r in rows:
            row = dict(r)
            rid = row["id"]
            if rid != expected_id:
                return VerifyResult(False, count, rid,
                                    f"expected event {expected_id} next, found {rid} "
                                    "(events missing)")
            if row["prev_hash"] != prev_hash:
                return VerifyResult(False, count, rid,
                                    "prev_hash does not match the previous event's hash")
            if row_hash(prev_hash, row) != row["hash"]:
                return VerifyResult(False, count, rid, "content does not match its hash")
            prev_hash = row["hash"]
            expected_id += 1
            count += 1
            last_id = rid
    return VerifyResult(True, count)
