"""What travels, to and from the database: a site's new events with the rows they touched
(export), and the events and rows of other sites (import), in one transaction.

An event keeps its content and its place in its site's chain (`seq`, `site_prev`,
`site_hash`); imported, it is appended to the local audit chain too, so everything that
reads the chain (integrity, approvals' backing, timelines) sees the union. Rows are
upserted by id (keys are unique across sites: store.db.next_id), checklist items,
verifications and environments by their natural keys. What stays on the site: a run's
log lines (their count and hash travel), its process, argv and environment, and a
hotfix's worktree.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import ValidationError
from ..core.sitesync import CLAIMS
from ..store import audit
from ..store.db import Store

_EVENT_FIELDS = ("at", "actor", "actor_verified", "entity", "entity_key", "action",
                 "incident", "hotfix", "data")
_DEPLOY_LOCAL = {"pid", "pgid", "argv", "env_vars", "workdir", "marker", "cgroup",
                 "survivors", "heartbeat_at"}
_DEPLOY_DEFAULTS = {"argv": "[]", "env_vars": "{}", "workdir": "", "marker": "",
                    "cgroup": "", "survivors": "[]"}
# table → the columns a row is found by (its conflict target); import order matters
# (foreign keys): incidents before hotfixes before their runs and approvals
_TARGETS = {"incidents": ("id",), "hotfixes": ("id",),
            "checklist_items": ("hotfix_id", "kind", "env", "n"), "deploys": ("id",),
            "approvals": ("id",), "env_verifications": ("hotfix_id", "env"),
            "environments": ("name",)}
_KEYED = {"incidents": "INC", "hotfixes": "HF", "deploys": "D"}


@dataclass
class Site:
    """One bastion sharing the history: its name, key slot, what it published."""

    name: str
    database: str
    slot: int
    exported_seq: int


def site(store: Store) -> Site | None:
    r = store.one("SELECT name, database, slot, exported_seq FROM sync_site WHERE id = 1")
    return Site(r["name"], r["database"], r["slot"], r["exported_seq"]) if r else None


def join(store: Store, name: str, database: str, slot: int, now: str) -> Site:
    store.execute("INSERT INTO sync_site (id, name, database, slot, joined_at) "
                  "VALUES (1, ?, ?, ?, ?)", (name, database, slot, now))
    return Site(name, database, slot, 0)


def move_slot(store: Store, slot: int) -> None:
    store.execute("UPDATE sync_site SET slot = ? WHERE id = 1", (slot,))


# ---- export ------------------------------------------------------------------------------

@dataclass
class Batch:
    """One site's batch of events, as written to the shared history."""

    first: int
    last: int
    text: str
    heads: dict[str, tuple[str, str]]  # hotfix key → (branch, head sha) of own hotfixes


def own_head(store: Store) -> tuple[int, str]:
    r = store.one("SELECT seq, site_hash FROM audit_events WHERE origin = '' "
                  "ORDER BY seq DESC LIMIT 1")
    return (r["seq"], r["site_hash"]) if r else (0, audit.GENESIS)


def head_doc(store: Store, me: Site, now: str) -> dict[str, Any]:
    seq, hash_ = own_head(store)
    return {"site": me.name, "seq": seq, "hash": hash_, "database": me.database,
            "slot": me.slot, "at": now}


def export(store: Store, me: Site) -> Batch | None:
    """This site's events after the last exported one, with the rows they touched."""
    evs = store.all("SELECT * FROM audit_events WHERE origin = '' AND seq > ? ORDER BY seq",
                    (me.exported_seq,))
    if not evs:
        return None
    lines: list[str] = []
    hotfixes: set[str] = set()
    incidents: set[str] = set()
    runs: set[str] = set()
    envs: set[str] = set()
    for e in evs:
        ev = {k: e[k] for k in _EVENT_FIELDS}
        ev.update(seq=e["seq"], site_prev=e["site_prev"], site_hash=e["site_hash"])
        if e["action"] in CLAIMS:
            ev["seen"] = {r["origin"]: r["s"] for r in store.all(
                "SELECT origin, max(seq) AS s FROM audit_events WHERE origin <> '' AND id < ? "
                "GROUP BY origin", (e["id"],))}
        lines.append(audit.canonical({"event": ev}))
        if e["hotfix"]:
            hotfixes.add(e["hotfix"])
        if e["incident"]:
            incidents.add(e["incident"])
        if e["entity"] == "deploy":
            runs.add(e["entity_key"])
        if e["entity"] == "environment":
            envs.add(e["entity_key"])
    rows, heads = _touched(store, me.name, hotfixes, incidents, runs, envs)
    lines += [audit.canonical({"row": t, "values": v}) for t, v in rows]
    return Batch(evs[0]["seq"], evs[-1]["seq"], "\n".join(lines) + "\n", heads)


def mark_exported(store: Store, seq: int) -> None:
    store.execute("UPDATE sync_site SET exported_seq = max(exported_seq, ?) WHERE id = 1",
                  (seq,))


def _dicts(store: Store, sql: str, params: tuple, me: str) -> list[dict[str, Any]]:
    out = []
    for r in store.all(sql, params):
        d = dict(r)
        if d.get("origin") == "":
            d["origin"] = me
        out.append(d)
    return out


def _in(values: set[str]) -> tuple[str, tuple]:
    return ", ".join("?" for _ in values), tuple(sorted(values))


def _touched(store: Store, me: str, hotfixes: set[str], incidents: set[str], runs: set[str],
             envs: set[str]) -> tuple[list[tuple[str, dict]], dict[str, tuple[str, str]]]:
    hf_rows: list[dict] = []
    if hotfixes:
        marks, args = _in(hotfixes)
        hf_rows = _dicts(store, f"SELECT * FROM hotfixes WHERE key IN ({marks})", args, me)
        incidents = incidents | {r["key"] for r in store.all(
            f"SELECT i.key FROM incidents i JOIN hotfixes h ON h.incident_id = i.id "
            f"WHERE h.key IN ({marks})", args)}
    rows: list[tuple[str, dict]] = []
    if incidents:
        marks, args = _in(incidents)
        rows += [("incidents", d) for d in _dicts(
            store, f"SELECT * FROM incidents WHERE key IN ({marks}) ORDER BY id", args, me)]
    heads = {d["key"]: (d["branch"], d["head_sha"]) for d in hf_rows
             if d["origin"] == me and d["head_sha"] != d["base_sha"]}
    rows += [("hotfixes", {k: v for k, v in d.items() if k != "worktree"}) for d in hf_rows]
    ids = tuple(r["id"] for r in hf_rows)
    rows += _of_hotfixes(store, me, ids, "checklist_items", drop="id")
    rows += [("deploys", d) for d in _runs(store, me, runs, ids)]
    rows += _of_hotfixes(store, me, ids, "approvals")
    rows += _of_hotfixes(store, me, ids, "env_verifications")
    if envs:
        m, args = _in(envs)
        rows += [("environments", d) for d in _dicts(
            store, f"SELECT * FROM environments WHERE name IN ({m})", args, me)]
    return rows, heads


def _of_hotfixes(store: Store, me: str, ids: tuple, table: str,
                 drop: str = "") -> list[tuple[str, dict]]:
    if not ids:
        return []
    marks = ", ".join("?" for _ in ids)
    return [(table, {k: v for k, v in d.items() if k != drop}) for d in _dicts(
        store, f"SELECT * FROM {table} WHERE hotfix_id IN ({marks}) ORDER BY rowid", ids, me)]


def _runs(store: Store, me: str, runs: set[str], ids: tuple) -> list[dict]:
    """Finished runs the events touched, of the hotfixes touched, and every finished run
    of this site not shared yet (its log's hash is taken as it is shared)."""
    sql = "SELECT * FROM deploys WHERE status <> 'running' AND ((origin = '' AND " \
          "log_hash = '')"
    params: tuple = ()
    if runs:
        sql += f" OR key IN ({', '.join('?' for _ in runs)})"
        params += tuple(sorted(runs))
    if ids:
        sql += f" OR hotfix_id IN ({', '.join('?' for _ in ids)})"
        params += ids
    out = []
    for d in _dicts(store, sql + ") ORDER BY id", params, me):
        if d["origin"] == me and not d["log_hash"]:
            d["log_hash"] = log_hash(store, d["id"])
            store.execute("UPDATE deploys SET log_hash = ? WHERE id = ?",
                          (d["log_hash"], d["id"]))
        out.append({k: v for k, v in d.items() if k not in _DEPLOY_LOCAL})
    return out


def log_hash(store: Store, deploy_id: int) -> str:
    """SHA-256 over a run's log as `seq TAB stream TAB text LF` lines."""
    h = hashlib.sha256()
    for r in store.execute("SELECT seq, stream, text FROM deploy_lines WHERE deploy_id = ? "
                           "ORDER BY seq", (deploy_id,)):
        h.update(f"{r[0]}\t{r[1]}\t{r[2]}\n".encode())
    return h.hexdigest()


# ---- import ------------------------------------------------------------------------------

@dataclass
class Parsed:
    """A batch read back: its events and its rows."""

    site: str
    events: list[dict[str, Any]] = field(default_factory=list)
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def parse_batch(path: str, site_name: str, data: bytes) -> Parsed:
    """A batch file, checked for shape (not for truth: audit verify judges that)."""
    out = Parsed(site_name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"bad content in {path}: not UTF-8") from exc
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError as exc:
            raise ValidationError(f"bad content in {path}: line {n} is not JSON") from exc
        if isinstance(doc, dict) and isinstance(doc.get("event"), dict):
            out.events.append(_check_event(doc["event"], path, n))
        elif isinstance(doc, dict) and doc.get("row") in _TARGETS \
                and isinstance(doc.get("values"), dict):
            out.rows.append((doc["row"], doc["values"]))
        else:
            raise ValidationError(f"bad content in {path}: line {n} is neither an event nor "
                                  "a row")
    return out


def _check_event(ev: dict, path: str, n: int) -> dict:
    def bad(what: str):
        raise ValidationError(f"bad content in {path}: line {n}: {what}")
    for k in ("at", "actor", "entity", "entity_key", "action", "data", "site_prev",
              "site_hash"):
        if not isinstance(ev.get(k), str):
            bad(f"{k} must be text")
    for k in ("incident", "hotfix"):
        if ev.get(k) is not None and not isinstance(ev[k], str):
            bad(f"{k} must be text or null")
    if ev.get("actor_verified") not in (0, 1):
        bad("actor_verified must be 0 or 1")
    if not isinstance(ev.get("seq"), int) or isinstance(ev["seq"], bool) or ev["seq"] < 1:
        bad("seq must be a positive integer")
    seen = ev.get("seen", {})
    if not isinstance(seen, dict) or not all(isinstance(v, int) for v in seen.values()):
        bad("seen must map sites to integers")
    return ev


def parse_head(path: str, data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise ValidationError(f"bad content in {path}: not JSON") from exc
    ok = isinstance(doc, dict) and isinstance(doc.get("seq"), int) and \
        isinstance(doc.get("hash"), str) and isinstance(doc.get("database"), str) and \
        isinstance(doc.get("slot"), int) and isinstance(doc.get("at"), str)
    if not ok:
        raise ValidationError(f"bad content in {path}: not a site head")
    return doc


def finding(store: Store, now: str, site_name: str, problem: str) -> None:
    store.execute("INSERT OR IGNORE INTO sync_findings (at, site, problem) VALUES (?, ?, ?)",
                  (now, site_name, problem))


def import_events(store: Store, me: Site, batch: Parsed, now: str) -> int:
    """Append the batch's events this database has not got; a copy that differs from the
    one held is a finding, never a silent replacement. Returns how many were added."""
    added = 0
    own = batch.site == me.name
    origin = "" if own else batch.site
    for ev in batch.events:
        held = store.one("SELECT site_hash FROM audit_events WHERE origin = ? AND seq = ?",
                         (origin, ev["seq"]))
        if held is not None:
            if held["site_hash"] != ev["site_hash"]:
                finding(store, now, batch.site, f"event {ev['seq']} of site {batch.site} in "
                        "the shared history differs from the copy held here")
            continue
        if own:
            finding(store, now, batch.site, f"the shared history holds event {ev['seq']} of "
                    "this site, which this database does not have")
            continue
        _append(store, batch.site, ev)
        added += 1
    return added


def _append(store: Store, origin: str, ev: dict) -> None:
    last = audit.head(store)
    row: dict[str, Any] = {k: ev.get(k) for k in _EVENT_FIELDS}
    row.update(id=(last["id"] + 1) if last else 1, origin=origin, seq=ev["seq"],
               site_prev=ev["site_prev"], site_hash=ev["site_hash"],
               seen=audit.canonical(ev["seen"]) if ev.get("seen") else "")
    row["prev_hash"] = last["hash"] if last else audit.GENESIS
    row["hash"] = audit.row_hash(row["prev_hash"], row)
    store.insert("audit_events", row)
    store.chain_moved = True


def _columns(store: Store, table: str) -> set[str]:
    return {r["name"] for r in store.all(f"PRAGMA table_info({table})")}


def import_rows(store: Store, me: Site, batch: Parsed, now: str) -> int:
    """Upsert the rows another site sent. A row whose id this database holds for another
    site (two databases that both had records before joining) is a finding, not stored."""
    applied = 0
    cols = {t: _columns(store, t) for t in _TARGETS}
    order = list(_TARGETS)
    for table, values in sorted(batch.rows, key=lambda tv: order.index(tv[0])):
        values = {k: v for k, v in values.items() if k in cols[table]}
        if "origin" in values:
            values["origin"] = "" if values["origin"] == me.name else values["origin"]
        clash = _clash(store, me, table, values)
        if clash:
            finding(store, now, batch.site, clash)
            continue
        try:
            _upsert(store, table, values)
            applied += 1
        except sqlite3.Error as exc:
            finding(store, now, batch.site, f"a {table} row from site {batch.site} was not "
                    f"stored: {exc}")
    return applied


def _clash(store: Store, me: Site, table: str, values: dict) -> str:
    if table not in _KEYED or "id" not in values:
        return ""
    here = store.one(f"SELECT key, origin FROM {table} WHERE id = ?", (values["id"],))
    if here is None or here["origin"] == values.get("origin", ""):
        return ""
    return (f"{here['key']} of site {values.get('origin') or me.name} clashes with "
            f"{here['key']} of {here['origin'] or me.name} (both created before joining)")


def _upsert(store: Store, table: str, values: dict) -> None:
    if table == "deploys":
        values = {**_DEPLOY_DEFAULTS, **values}
    keep = set()
    if table == "hotfixes":  # the worktree is where it is on this bastion (if any)
        values = {"worktree": "", **values}
        keep = {"worktree"}
    target = _TARGETS[table]
    names = list(values)
    sets = ", ".join(f"{c} = excluded.{c}" for c in names if c not in target and c not in keep)
    store.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                  f"({', '.join('?' for _ in names)}) ON CONFLICT({', '.join(target)}) DO "
                  + (f"UPDATE SET {sets}" if sets else "NOTHING"),
                  tuple(values[c] for c in names))


def store_head(store: Store, site_name: str, doc: dict) -> None:
    store.execute(
        "INSERT INTO sync_heads (site, seq, hash, database, slot, at) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT(site) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
        "database = excluded.database, slot = excluded.slot, at = excluded.at",
        (site_name, doc["seq"], doc["hash"], doc["database"], doc["slot"], doc["at"]))


def known_files(store: Store) -> dict[str, str]:
    return {r["path"]: r["blob"] for r in store.all("SELECT path, blob FROM sync_files")}


def remember_file(store: Store, path: str, blob: str) -> None:
    store.execute("INSERT INTO sync_files (path, blob) VALUES (?, ?) ON CONFLICT(path) "
                  "DO UPDATE SET blob = excluded.blob", (path, blob))
