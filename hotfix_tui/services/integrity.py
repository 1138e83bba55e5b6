"""Is the record what the audit chain says? `audit verify`, and the checks a deploy makes.

Three things are checked: the chain itself (every event's hash, from the first), its
head against the anchor in the repository (hotfix_tui.anchor: deleting the newest events,
or all of them, is found), and every record against the chain (core.integrity and
core.approval.chain_problems: a row written with plain SQL is found). A deploy is
refused on a record that fails them, break-glass aside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import anchor
from ..core import approval as appr
from ..core import integrity
from ..core.integrity import Problem
from ..core.models import Hotfix
from ..store import audit, records, sitechain
from ..store.db import Store
from . import signatures
from .context import Context


@dataclass(frozen=True)
class AuditReport:
    """Whether the audit chain verifies, and where it first does not."""

    ok: bool
    events: int  # events that verify, from the first
    bad_id: int | None = None  # the first event that does not
    problem: str = ""  # the first problem, in words
    anchor: anchor.Anchor | None = None
    anchored: str = ""  # how the head is anchored, in words
    unanchored: int = 0  # events after the anchored one
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    signatures: signatures.SignatureAudit | None = None  # every signature, verified again

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "bad_id": self.bad_id,
                "problem": self.problem or None,
                "anchor": self.anchor.to_json() if self.anchor else None,
                "anchored": self.anchored or None, "unanchored": self.unanchored,
                "problems": [p.to_json() for p in self.problems],
                "signatures": self.signatures.to_json() if self.signatures else None}


def _worktree(ctx: Context) -> Path | None:
    return ctx.repo.toplevel if ctx.repo is not None else None


def anchor_problems(ctx: Context, store: Store) -> tuple[list[Problem], anchor.Anchor | None,
                                                          str, int]:
    """The chain's head against the repository's anchor: (problems, the anchor, in words,
    events after it). Cheap: two rows and a ref."""
    cwd = _worktree(ctx)
    head = audit.head(store)
    count = head["id"] if head else 0
    if cwd is None:
        return [], None, "not anchored: no repository", count
    db = str(Path(store.path).resolve())
    first = audit.first(store)
    if first is None:
        mine = [a for a in anchor.all_anchors(cwd) if a.db == db]
        if mine:
            a = max(mine, key=lambda x: x.seq)
            return [Problem("anchor", a.ref, f"every event is gone: the repository anchors "
                            f"{a.seq} events for this database ({a.ref})")], a, "", 0
        return [], None, "empty chain", 0
    chain = anchor.chain_id(first["hash"])
    found = anchor.read(cwd, chain)
    if found is None:
        others = [a for a in anchor.all_anchors(cwd) if a.db == db and a.chain != chain]
        if others:
            a = max(others, key=lambda x: x.seq)
            return [Problem("anchor", a.ref, f"the chain was replaced: the repository anchors "
                            f"another chain of {a.seq} events for this database ({a.ref})")
                    ], a, "", count
        return [], None, "not anchored yet (the next change anchors it)", count
    row = store.one("SELECT id, hash FROM audit_events WHERE id = ?", (found.seq,))
    if row is None:
        return [Problem("anchor", found.ref, f"the newest events are gone: the chain ends at "
                        f"event {count}, but event {found.seq} was anchored ({found.ref}, "
                        f"{found.at[:19].replace('T', ' ')} UTC)")], found, "", 0
    if row["hash"] != found.hash:
        return [Problem("anchor", found.ref, f"event {found.seq} is not the event anchored "
                        f"({found.ref}): the chain was rewritten")], found, "", 0
    return [], found, f"anchored at event {found.seq} in {found.ref}", count - found.seq


def verify_all(ctx: Context) -> AuditReport:
    """The whole check, as `hotfix audit verify` shows it."""
    with ctx.reading() as store:
        chain = audit.verify(store)
        problems, found, anchored, unanchored = anchor_problems(ctx, store)
        problems += record_problems(ctx, store)
        hotfixes = records.list_hotfixes(store, policy=ctx.approval_policy)
        sites = sitechain.verify(store)
    sigs = signatures.audit_signatures(ctx, hotfixes)
    problems += [Problem("approval", b.hotfix, f"{b.decision} by {b.approver} at "
                         f"{b.at[:19].replace('T', ' ')}: bad signature: {b.reason}")
                 for b in sigs.bad]
    all_problems = []
    if not chain.ok:
        all_problems.append(Problem("chain", f"event {chain.bad_id}", chain.problem))
    all_problems += problems
    all_problems += [Problem("site", site, text) for site, text in sites]
    first = all_problems[0] if all_problems else None
    return AuditReport(ok=not all_problems, events=chain.events,
                       bad_id=chain.bad_id if not chain.ok else None,
                       problem=str(first) if first else "", anchor=found,
                       anchored=anchored, unanchored=unanchored,
                       problems=tuple(all_problems), signatures=sigs)


def record_problems(ctx: Context, store: Store) -> list[Problem]:
    """Every row that no event backs, or that disagrees with the chain."""
    view = integrity.read_chain(_all_events(store))
    out = integrity.record_problems(
        store.all("SELECT key, state, needs_retroactive_approval FROM hotfixes ORDER BY id"),
        store.all("SELECT key, status FROM incidents ORDER BY id"),
        store.all("SELECT name, locked, version, sha FROM environments ORDER BY name"),
        store.all("SELECT key, status FROM deploys ORDER BY id"), view)
    out += integrity.verification_problems(verification_rows(store), view)
    for h in store.all("SELECT DISTINCT h.key FROM approvals a JOIN hotfixes h "
                       "ON h.id = a.hotfix_id ORDER BY h.id"):
        row = records.hotfix_row(store, h["key"])
        for a in records.approvals_for(store, row, appr.STRICT):
            if not a.backed:
                who = a.approver + (f" (OS account {a.approver_account})"
                                    if a.approver_account != a.approver else "")
                out.append(Problem("approval", h["key"], f"{a.decision} by {who} at "
                                   f"{a.at[:19].replace('T', ' ')}: {a.not_counted}"))
    return out


def verification_rows(store: Store, hotfix: str | None = None) -> list:
    """`env_verifications` rows with their hotfix's key (of one hotfix, or all)."""
    sql = ("SELECT h.key AS hotfix_key, v.env, v.sha, v.state, v.rollback_id FROM "
           "env_verifications v JOIN hotfixes h ON h.id = v.hotfix_id")
    if hotfix is None:
        return store.all(sql + " ORDER BY h.id, v.env")
    return store.all(sql + " WHERE h.key = ? ORDER BY v.env", (hotfix,))


def _all_events(store: Store, batch: int = 5000):
    last = 0
    while True:
        page = audit.events(store, after_id=last, limit=batch)
        yield from page
        if len(page) < batch:
            return
        last = page[-1].id


def deploy_refusals(ctx: Context, store: Store, hf: Hotfix, env: str,
                    full: bool = False) -> list[str]:
    """Why the record does not support deploying `hf` to `env` (empty: it does). `full`
    also recomputes the whole chain (the deploy itself; a preview only checks the anchor
    and this hotfix's and environment's records)."""
    reasons: list[str] = []
    if full:
        chain = audit.verify(store)
        if not chain.ok:
            reasons.append(f"the audit trail does not verify: event {chain.bad_id}: "
                           f"{chain.problem} (hotfix audit verify)")
    problems, _, _, _ = anchor_problems(ctx, store)
    reasons += [f"the audit trail does not verify: {p.text} (hotfix audit verify)"
                for p in problems]
    events = audit.events(store, hotfix=hf.key)
    view = integrity.read_chain(events + audit.entity_events(store, "environment", env))
    row = store.one("SELECT state, needs_retroactive_approval FROM hotfixes WHERE key = ?",
                    (hf.key,))
    reasons += [str(p) for p in integrity.hotfix_problems(
        hf.key, row["state"], bool(row["needs_retroactive_approval"]), view)]
    lock = store.one("SELECT locked FROM environments WHERE name = ?", (env,))
    p = integrity.lock_problem(env, bool(lock["locked"]) if lock else False, view)
    if p is not None:
        reasons.append(str(p))
    reasons += [f"{p} (hotfix audit verify)" for p in integrity.verification_problems(
        verification_rows(store, hf.key), view)]
    for a in hf.approvals:
        if a.decision == "approved" and not a.backed:
            reasons.append(f"the approval by {a.approver} is not counted: {a.not_counted} "
                           "(hotfix audit verify)")
    return reasons

