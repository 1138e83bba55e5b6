"""`hotfix sync`: fetch the shared history from the git remote, merge it (the union of
every site's events), bring this database up to it, add this site's new events and push;
a push the remote refuses because it moved on is retried after a fetch (docs/SYNC.md)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import sitesync
from ..core.errors import HotfixError, ValidationError
from ..detach import spawn_module
from ..store import sitechain
from ..store.db import SLOTS, Store, open_store
from ..sync import exchange, wire
from .context import Context

ATTEMPTS = 5
SITE_ENV = "HOTFIX_SITE"
BACKGROUND_ENV = "HOTFIX_SYNC_BACKGROUND"  # set for a background sync: it starts no other


@dataclass
class SyncResult:
    """What one `hotfix sync` sent and received."""

    remote: str
    site: str = ""
    slot: int = 0
    joined: bool = False
    received: dict[str, int] = field(default_factory=dict)  # site → events added here
    rows: int = 0
    sent: int = 0  # this site's events newly in the shared history
    pushed: bool = False
    attempts: int = 0
    findings: list[str] = field(default_factory=list)  # new tamper evidence

    def to_json(self) -> dict[str, Any]:
        return {"remote": self.remote, "site": self.site, "slot": self.slot,
                "joined": self.joined, "received": dict(sorted(self.received.items())),
                "received_events": sum(self.received.values()), "rows": self.rows,
                "sent_events": self.sent, "pushed": self.pushed, "attempts": self.attempts,
                "findings": self.findings}


def merged_history(ctx: Context, limit: int | None = None) -> list[dict[str, Any]]:
    """Every site's events in the one order every bastion shows them."""
    with ctx.reading() as store:
        return sitechain.merged(store, limit)


def describe_conflict(pair: dict[str, Any]) -> str:
    return sitesync.describe(pair)


def remote_name(ctx: Context, remote: str | None) -> str:
    return remote or ctx.fresh_config().sync.remote or "origin"


def sync_later(ctx: Context) -> bool:
    """[sync] auto: push this site's new events in the background (a detached `hotfix
    sync`), never waiting for it and never failing; True if one was started. Only once
    the database joined a shared history (its first `hotfix sync` names the site)."""
    if ctx.readonly or os.environ.get(BACKGROUND_ENV) or ctx.repo is None:
        return False
    try:
        cfg = ctx.fresh_config().sync
        if not cfg.auto or not ctx.db_path.is_file():
            return False
        with open_store(ctx.db_path, create=False) as store:
            me = exchange.site(store) if not store.readonly else None
            if me is None or exchange.own_head(store)[0] <= me.exported_seq:
                return False
        return spawn_module("hotfix_tui", "--db", str(ctx.db_path.resolve()), "--repo",
                            str(ctx.repo.toplevel), "sync", "--remote",
                            remote_name(ctx, None), env={BACKGROUND_ENV: "1"}) == 0
    except Exception:  # sharing never gets in the way of the action
        return False


@contextlib.contextmanager
def _one_at_a_time(ctx: Context):
    """One sync of a database at a time (a background push and one run by hand)."""
    path = ctx.db_path.parent / "sync.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o660)
    except OSError:
        yield  # a folder we cannot write in: the database refuses the writes anyway
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def sync(ctx: Context, remote: str | None = None, site: str | None = None) -> SyncResult:
    with _one_at_a_time(ctx):
        return _sync(ctx, remote, site)


sync_history = sync  # the name the faces know it by (services.sync is a hotfix's own)


def _sync(ctx: Context, remote: str | None, site: str | None) -> SyncResult:
    name = remote_name(ctx, remote)
    wire.check_name(name, "remote")
    wanted = site or os.environ.get(SITE_ENV) or None
    if wanted is not None:
        wire.check_name(wanted, "site name")
    cwd = ctx.require_repo().toplevel
    wire.check_remote(cwd, name)
    result = SyncResult(name)
    with ctx.writing() as store:
        for attempt in range(1, ATTEMPTS + 1):
            result.attempts = attempt
            if _round(ctx, store, cwd, name, wanted, result):
                break
        else:
            raise HotfixError(f"the remote {name} kept moving: gave up after {ATTEMPTS} "
                              "pushes; run hotfix sync again")
    return result


def _round(ctx: Context, store: Store, cwd: Path, remote: str, wanted: str | None,
           result: SyncResult) -> bool:
    """One fetch, merge, import, export and push; False when the push was refused."""
    theirs = wire.fetch(cwd, remote)
    ours = wire.rev(cwd, wire.REF)
    merged = wire.merge(cwd, ours, theirs)
    known = exchange.known_files(store)
    fresh = _read_fresh(cwd, merged.files, known)  # all read and checked before any write
    with store.write():
        tip = _apply(ctx, store, cwd, wanted, merged, ours, fresh, known, result)
    if tip is None or tip == theirs:
        return True
    own = [r["key"] for r in store.all("SELECT key FROM hotfixes WHERE origin = '' AND "
                                       "head_sha <> base_sha")]
    if wire.push(cwd, remote, [k for k in own if wire.rev(cwd, f"{wire.HEADS}{k}")]) \
            == "rejected":
        return False
    result.pushed = True
    return True


def _apply(ctx: Context, store: Store, cwd: Path, wanted: str | None, merged: wire.Merged,
           ours: str | None, fresh: tuple, known: dict[str, str],
           result: SyncResult) -> str | None:
    """Inside one transaction: join if need be, take in what is new, add this site's new
    events; returns the history's new tip (the local ref is moved to it)."""
    paths, heads, batches = fresh
    files = merged.files
    now = ctx.now()
    me = exchange.site(store)
    if me is None:
        me = _join(store, cwd, files, heads, wanted, now)
        result.joined = True
    elif wanted is not None and wanted != me.name:
        raise ValidationError(f"this database is site {me.name!r} already")
    _check_slot(store, me, heads, result.joined)
    before = {r["problem"] for r in store.all("SELECT problem FROM sync_findings")}
    _take_in(store, me, merged.clashes, heads, batches, known, now, result)
    for path in paths:
        exchange.remember_file(store, path, files[path])
    new_files = _publish(store, cwd, me, files, heads, now, result)
    tip = merged.commit
    if new_files != files:
        tip = wire.commit(cwd, new_files, [merged.commit] if merged.commit else [],
                          f"hotfix sync: {me.name}")
    if tip is not None and tip != ours:
        wire.update_ref(cwd, wire.REF, tip, ours)
    result.findings += [r["problem"] for r in store.all(
        "SELECT problem FROM sync_findings ORDER BY id") if r["problem"] not in before]
    result.site, result.slot = me.name, me.slot
    _follow_branches(store, cwd)
    return tip


def _take_in(store: Store, me: exchange.Site, clashes: tuple[str, ...],
             heads: dict[str, dict], batches: list, known: dict[str, str], now: str,
             result: SyncResult) -> None:
    """Record what the merge and the files say: heads, events, rows, tamper evidence."""
    for path in clashes:
        exchange.finding(store, now, path.split("/")[1], f"{path} differs between this "
                         "clone and the remote: one of them was rewritten")
    for site_name, doc in heads.items():
        exchange.store_head(store, site_name, doc)
    for path, batch in sorted(batches, key=lambda pb: (pb[1].site, pb[0])):
        if path in known:  # a batch is never rewritten: nothing of it is taken
            exchange.finding(store, now, batch.site, f"{path} changed after it was read")
            continue
        added = exchange.import_events(store, me, batch, now)
        if batch.site != me.name:
            result.received[batch.site] = result.received.get(batch.site, 0) + added
            result.rows += exchange.import_rows(store, me, batch, now)


def _read_fresh(cwd: Path, files: dict[str, str], known: dict[str, str]):
    """The files not read yet (or changed since), each read and checked before anything
    is written: (their paths, heads by site, (path, batch) pairs)."""
    fresh = sorted(p for p, b in files.items() if known.get(p) != b)
    blobs = wire.read_blobs(cwd, sorted({files[p] for p in fresh}))
    heads: dict[str, dict] = {}
    batches = []
    for path in fresh:
        parts = path.split("/")
        if len(parts) < 3 or parts[0] != "sites":
            raise ValidationError(f"bad content in {wire.REF}: unexpected file {path!r}")
        site_name = wire.check_name(parts[1], f"site in {wire.REF}")
        if parts[2:] == ["head.json"]:
            heads[site_name] = exchange.parse_head(path, blobs[files[path]])
        elif len(parts) == 4 and parts[2] == "events" and parts[3].endswith(".jsonl"):
            batches.append((path, exchange.parse_batch(path, site_name, blobs[files[path]])))
        else:
            raise ValidationError(f"bad content in {wire.REF}: unexpected file {path!r}")
    return tuple(fresh), heads, batches


def _publish(store: Store, cwd: Path, me: exchange.Site, files: dict[str, str],
             heads: dict[str, dict], now: str, result: SyncResult) -> dict[str, str]:
    """The history's files with this site's new batch and head added."""
    out = exchange.export(store, me)
    new_files = dict(files)
    if out is not None:
        path = f"sites/{me.name}/events/{out.first:012d}.jsonl"
        new_files[path] = wire.write_blob(cwd, out.text)
        exchange.remember_file(store, path, new_files[path])
        exchange.mark_exported(store, out.last)
        result.sent += out.last - out.first + 1
        for key, (_, sha) in out.heads.items():
            wire.set_head(cwd, key, sha)
    head = exchange.head_doc(store, me, now)
    old = heads.get(me.name) or _head_at(cwd, files, me.name)
    if old is None or (old["seq"], old["hash"], old["slot"]) != (head["seq"], head["hash"],
                                                                 head["slot"]):
        exchange.store_head(store, me.name, head)
        path = f"sites/{me.name}/head.json"
        new_files[path] = wire.write_blob(cwd, json.dumps(head, sort_keys=True) + "\n")
        exchange.remember_file(store, path, new_files[path])
    return new_files


def _head_at(cwd: Path, files: dict[str, str], site_name: str) -> dict | None:
    blob = files.get(f"sites/{site_name}/head.json")
    if blob is None:
        return None
    return exchange.parse_head(site_name, wire.read_blobs(cwd, [blob])[blob])


def _taken(cwd: Path, files: dict[str, str], heads: dict[str, dict]) -> dict[str, dict]:
    out = dict(heads)
    for path in files:
        parts = path.split("/")
        if parts[2:] == ["head.json"] and parts[1] not in out:
            out[parts[1]] = _head_at(cwd, files, parts[1])
    return out


def _join(store: Store, cwd: Path, files: dict[str, str], heads: dict[str, dict],
          wanted: str | None, now: str) -> exchange.Site:
    sites = _taken(cwd, files, heads)
    name = wanted or _default_name()
    if name in sites:
        raise ValidationError(f"site name {name!r} is taken by another database in the "
                              f"shared history; give another with --site or ${SITE_ENV}")
    slot = _free_slot({d["slot"] for d in sites.values()})
    return exchange.join(store, name, secrets.token_hex(8), slot, now)


def _free_slot(used: set[int]) -> int:
    free = [s for s in range(1, SLOTS) if s not in used]
    if not free:
        raise HotfixError(f"{SLOTS - 1} sites share this history already: no slot is free")
    return free[0]


def _check_slot(store: Store, me: exchange.Site, heads: dict[str, dict], joined: bool) -> None:
    """Two sites that joined at the same time may have picked the same slot: the one that
    finds out before it made any record moves; otherwise it is said plainly."""
    rows = store.all("SELECT site, slot, database FROM sync_heads")
    clash = [r["site"] for r in rows if r["slot"] == me.slot and r["site"] != me.name]
    clash += [s for s, d in heads.items() if d["slot"] == me.slot and s != me.name]
    if not clash:
        return
    if joined or me.exported_seq == 0:
        used = {r["slot"] for r in rows} | {d["slot"] for d in heads.values()}
        me.slot = _free_slot(used)
        exchange.move_slot(store, me.slot)
        return
    raise HotfixError(f"site {clash[0]} uses slot {me.slot} too: keys of the two sites may "
                      "clash (see docs/SYNC.md)")


def _default_name() -> str:
    host = socket.gethostname().split(".")[0] or "site"
    clean = "".join(c if c.isalnum() or c in "-_" else "-" for c in host)[:40]
    return clean if clean[:1].isalnum() else "site"


def _follow_branches(store: Store, cwd: Path) -> None:
    """Hotfixes of other sites: their branch here follows the head they published."""
    for r in store.all("SELECT key, branch FROM hotfixes WHERE origin <> '' AND state NOT IN "
                       "('finished', 'abandoned')"):
        sha = wire.rev(cwd, f"{wire.HEADS}{r['key']}")
        if sha:
            wire.branch_follow(cwd, r["branch"], sha)
