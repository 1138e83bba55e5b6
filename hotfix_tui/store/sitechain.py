"""Every site's own chain inside the audit trail (hotfix sync, docs/SYNC.md).

An event's `seq`, `site_prev` and `site_hash` place it in the chain of the site that
recorded it. Each site's chain is recomputed here from the copies this database holds,
and compared with the head each site last published: a site that deleted or rewrote
events it had already shared is found by every other site.
"""

from __future__ import annotations

import json
from typing import Any

from .audit import GENESIS, site_hash
from .db import Store


def own_name(store: Store) -> str:
    return store.scalar("SELECT name FROM sync_site WHERE id = 1") or ""


def _chain(store: Store, origin: str, shown: str, batch: int = 5000) -> tuple[list[str], dict]:
    """Problems of one site's chain, and its last (seq, hash) held here."""
    problems: list[str] = []
    prev, expected, last = GENESIS, 1, 0
    while True:
        page = store.all("SELECT * FROM audit_events WHERE origin = ? AND seq > ? ORDER BY seq "
                         "LIMIT ?", (origin, last, batch))
        if not page:
            break
        for r in page:
            row = dict(r)
            if row["seq"] != expected:
                problems.append(f"site {shown}: event {expected} is missing (found "
                                f"{row['seq']} next)")
                return problems, {"seq": last, "hash": prev}
            if row["site_prev"] != prev:
                problems.append(f"site {shown}: event {row['seq']} does not follow event "
                                f"{row['seq'] - 1}: its history was rewritten")
                return problems, {"seq": last, "hash": prev}
            if site_hash(prev, row["seq"], row) != row["site_hash"]:
                problems.append(f"site {shown}: event {row['seq']} does not match its hash: "
                                "it was changed")
                return problems, {"seq": last, "hash": prev}
            prev, expected, last = row["site_hash"], expected + 1, row["seq"]
    return problems, {"seq": last, "hash": prev}


def verify(store: Store) -> list[tuple[str, str]]:
    """(site, problem) for every site this database holds events of: its chain, its
    published head against the copies held here, and what sync found on the way."""
    me = own_name(store)
    if not me:
        return []
    out: list[tuple[str, str]] = []
    held: dict[str, dict] = {}
    for r in store.all("SELECT DISTINCT origin FROM audit_events"):
        shown = r["origin"] or me
        problems, held[shown] = _chain(store, r["origin"], shown)
        out += [(shown, p) for p in problems]
    for h in store.all("SELECT site, seq, hash FROM sync_heads ORDER BY site"):
        problem = _head_problem(store, h, held.get(h["site"], {"seq": 0}), me)
        if problem:
            out.append((h["site"], problem))
    out += [(r["site"], r["problem"]) for r in store.all(
        "SELECT site, problem FROM sync_findings ORDER BY id")]
    return out


def _head_problem(store: Store, h, mine: dict, me: str) -> str:
    """What a site's published head says against the copies of its events held here."""
    site = h["site"]
    if h["seq"] < mine["seq"] and site != me:
        return (f"site {site} now has {h['seq']} events, but {mine['seq']} of its events "
                "were shared: events were deleted there")
    if h["seq"] > mine["seq"]:  # another site further along: the next sync fetches it
        return (f"this site published {h['seq']} events, but this database holds "
                f"{mine['seq']}: events were deleted here") if site == me else ""
    if not h["seq"]:
        return ""
    at = store.one("SELECT site_hash FROM audit_events WHERE origin = ? AND seq = ?",
                   ("" if site == me else site, h["seq"]))
    if at is None or at["site_hash"] != h["hash"]:
        return (f"site {site}'s event {h['seq']} is not the one shared before: its "
                "history was rewritten there")
    return ""


def merged(store: Store, limit: int | None = None) -> list[dict[str, Any]]:
    """Every event of every site, in the order every bastion shows them: by time, then
    site, then place in the site's chain."""
    me = own_name(store) or "local"
    sql = ("SELECT id, at, actor, entity, entity_key, action, incident, hotfix, seq, "
           "site_hash, CASE origin WHEN '' THEN ? ELSE origin END AS site FROM audit_events "
           "ORDER BY at, site, seq")
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [dict(r) for r in store.all(sql, (me,))]


def claims(store: Store, actions: tuple[str, ...]) -> list[dict[str, Any]]:
    """Deploys and locks, with how far their site had read every other site when it
    acted; nothing for a database that never joined a shared history or never fetched a
    claim (the dashboard asks on every refresh)."""
    me = own_name(store)
    marks = ", ".join("?" for _ in actions)
    if not me or not store.scalar(f"SELECT 1 FROM audit_events WHERE origin <> '' AND "
                                  f"action IN ({marks}) LIMIT 1", actions):
        return []
    out = []
    read: dict[str, int] = {}  # how far this database had read each site, event by event
    for r in store.all(f"SELECT id, origin, seq, at, action, entity, entity_key, hotfix, "
                       f"actor, data, seen FROM audit_events WHERE origin <> '' OR action IN "
                       f"({marks}) ORDER BY id", actions):
        if r["action"] in actions:
            data = json.loads(r["data"])
            after = data.get("after") if isinstance(data.get("after"), dict) else {}
            env = r["entity_key"] if r["entity"] == "environment" else after.get("env")
            seen = (json.loads(r["seen"]) if r["seen"] else {}) if r["origin"] else dict(read)
            out.append({"site": r["origin"] or me, "seq": r["seq"], "at": r["at"],
                        "action": r["action"], "key": r["entity_key"], "hotfix": r["hotfix"],
                        "actor": r["actor"], "env": env, "seen": seen})
        if r["origin"]:
            read[r["origin"]] = max(read.get(r["origin"], 0), r["seq"])
    return out
