"""Scope, checklist, submit, approve and reject."""

from __future__ import annotations

from dataclasses import replace

from .. import gitops
from ..core import approval as appr
from ..core.errors import HotfixError, PolicyRefusal, ValidationError
from ..core.models import Approval, ChecklistItem, Hotfix, HotfixState
from ..core.scope import ScopeReport, automatic_items, evaluate
from ..core.workflow import check_hotfix_transition, clean_text
from ..store import audit, records
from ..store.db import Store
from .context import Context
from .hotfixes import (
    _fresh,
    binding,
    current_head,
    git_cwd,
    load,
    require_editable,
    set_state,
    sync,
)
from .runs import reap


def _scope_for(ctx: Context, row, head: str) -> ScopeReport:
    cwd = git_cwd(ctx)
    files = gitops.diff_files(cwd, row["base_sha"], head)
    commits = gitops.count_commits(cwd, row["base_sha"], head)
    return evaluate(files, ctx.config.scope, commits)


def scope(ctx: Context, key: str) -> ScopeReport:
    with ctx.reading() as store:
        row = records.hotfix_row(store, key)
    return _scope_for(ctx, row, current_head(ctx, row))


def full_checklist(ctx: Context, store: Store, row, report: ScopeReport | None = None
                   ) -> tuple[list[ChecklistItem], ScopeReport]:
    manual = records.checklist_for(store, row["id"])
    report = report or _scope_for(ctx, row, current_head(ctx, row))
    auto = automatic_items(report, len(manual) + 1, ctx.config.scope)
    return manual + auto, report


def checklist(ctx: Context, key: str) -> list[ChecklistItem]:
    with ctx.reading() as store:
        row = records.hotfix_row(store, key)
        items, _ = full_checklist(ctx, store, row)
    return items


def show(ctx: Context, key: str) -> Hotfix:
    """The hotfix with its full checklist (configured and automatic items)."""
    reap(ctx)
    with ctx.open(create=False) as store:
        sync(ctx, key, store)
        row = records.hotfix_row(store, key)
        hf = records.get_hotfix(store, key)
        if HotfixState(row["state"]) in (HotfixState.ABANDONED, HotfixState.FINISHED):
            return hf
        items, _ = full_checklist(ctx, store, row)
    return replace(hf, checklist=tuple(items))


def check(ctx: Context, key: str, n: int, checked: bool = True) -> list[ChecklistItem]:
    with ctx.reading() as store:
        row = records.hotfix_row(store, key)
        items, _ = full_checklist(ctx, store, row)
    item = next((i for i in items if i.n == n), None)
    if item is None:
        raise ValidationError(f"{row['key']} has no checklist item {n} (items 1-{len(items)})")
    if item.automatic:
        raise ValidationError(f"item {n} ({item.text}) is automatic: it is computed from the "
                              "diff and cannot be ticked")
    require_editable(row)
    now = ctx.now()
    with ctx.writing() as store, store.write():
        row = records.hotfix_row(store, key)
        require_editable(row)  # again, inside the transaction: it may have moved on
        current = store.one("SELECT * FROM checklist_items WHERE hotfix_id = ? AND "
                            "kind = 'scope' AND env = '' AND n = ?", (row["id"], n))
        if bool(current["checked"]) != checked:
            store.execute(
                "UPDATE checklist_items SET checked = ?, checked_by = ?, "
                "checked_by_verified = ?, checked_at = ? WHERE id = ?",
                (int(checked), ctx.actor.name if checked else None, int(ctx.actor.verified),
                 now if checked else None, current["id"]))
            audit.append(store, ctx.actor, now, "checklist", row["key"],
                         "checklist.checked" if checked else "checklist.unchecked",
                         before={"n": n, "checked": bool(current["checked"])},
                         after={"n": n, "text": current["text"], "checked": checked},
                         incident=row["incident_key"], hotfix=row["key"])
            from .hotfixes import refresh_approvals

            refresh_approvals(ctx, store, row, now)
    return checklist(ctx, key)


def submit(ctx: Context, key: str, accept_scope: str | None = None) -> Hotfix:
    accept = clean_text(accept_scope, "scope acceptance reason") if accept_scope else ""
    if accept_scope is not None and not accept:
        raise ValidationError("--accept-scope needs a reason")
    with ctx.open(create=False) as store:
        hf = load(ctx, key, store)
        row = records.hotfix_row(store, key)
        items, report = full_checklist(ctx, store, row)
    blockers = appr.submit_blockers(hf, items, report.commits, accept)
    if blockers:
        raise PolicyRefusal(f"submit {hf.key}", blockers)
    now = ctx.now()
    with ctx.writing() as store, store.write():
        row = records.hotfix_row(store, key)
        if row["head_sha"] != hf.head_sha:
            raise HotfixError(f"{hf.key} changed while submitting; try again")
        if accept:
            store.execute("UPDATE hotfixes SET scope_accepted_reason = ? WHERE id = ?",
                          (accept, row["id"]))
        set_state(ctx, store, row, HotfixState.IN_REVIEW, now, "hotfix.submitted",
                  head=row["head_sha"], scope_accepted=accept or None,
                  violations=[v.to_json() for v in report.violations] or None)
        if ctx.config.approvals.required == 0:
            row = records.hotfix_row(store, key)
            set_state(ctx, store, row, HotfixState.APPROVED, now, "hotfix.approved",
                      sha=row["head_sha"], note="no approvals required by config")
    return _fresh(ctx, key)


def _bound_row(ctx: Context, store: Store, row, decision: str, comment: str, now: str,
               retroactive: bool = False) -> dict:
    b = binding(ctx, store, row, row["head_sha"])
    return {
        "hotfix_id": row["id"], "approver": ctx.actor.name,
        "approver_verified": int(ctx.actor.verified), "decision": decision,
        "head_sha": b.head_sha, "tree_sha": b.tree_sha, "checklist_hash": b.checklist_hash,
        "doc_hash": b.doc_hash, "config_hash": b.config_hash, "comment": comment, "at": now,
        "retroactive": int(retroactive),
    }


def approve(ctx: Context, key: str, comment: str = "",
            expected_head: str | None = None,
            expected: appr.Binding | None = None) -> Hotfix:
    """Approve exactly the content as it is now. `expected_head` (or the whole `expected`
    binding, from the console) refuses when the content changed since the approver looked."""
    comment = clean_text(comment, "comment")
    with ctx.open(create=False) as store:
        hf = load(ctx, key, store)
    refusal = appr.approval_refusal(hf, ctx.actor.name)
    if refusal:
        raise PolicyRefusal(f"approve {hf.key}", [refusal])
    if expected_head and not hf.head_sha.startswith(expected_head.lower()):
        raise PolicyRefusal(f"approve {hf.key}", [
            f"approval stale: head moved to {hf.head_sha[:12]} since you looked "
            f"({expected_head[:12]})"])
    now = ctx.now()
    with ctx.writing() as store, store.write():
        row = records.hotfix_row(store, key)
        if row["head_sha"] != hf.head_sha:
            raise PolicyRefusal(f"approve {hf.key}", ["approval stale: head moved meanwhile"])
        if expected is not None:
            seen = Approval(approver="", approver_verified=True, decision="approved",
                            sha=expected.head_sha, tree_sha=expected.tree_sha,
                            checklist_hash=expected.checklist_hash,
                            config_hash=expected.config_hash, stale=False, stale_reason="",
                            at="", doc_hash=expected.doc_hash)
            changed = appr.stale_reason(seen, binding(ctx, store, row, row["head_sha"]))
            if changed:
                raise PolicyRefusal(f"approve {hf.key}", [
                    f"approval stale: {changed} since you looked; review it again"])
        fresh = records.get_hotfix(store, key)
        refusal = appr.approval_refusal(fresh, ctx.actor.name)
        if refusal:  # the state changed since we looked (a reject, an abandon)
            raise PolicyRefusal(f"approve {hf.key}", [refusal])
        retro = bool(row["needs_retroactive_approval"]) and HotfixState(row["state"]) not in (
            HotfixState.IN_REVIEW, HotfixState.APPROVED)
        if retro:
            shipped = store.scalar("SELECT sha FROM deploys WHERE hotfix_id = ? AND "
                                   "break_glass = 1 ORDER BY id DESC LIMIT 1", (row["id"],))
            if shipped and shipped != row["head_sha"]:
                raise PolicyRefusal(f"approve {hf.key}", [
                    f"the head moved since the break-glass deploy (deployed {shipped[:12]}, "
                    f"head {row['head_sha'][:12]}); an approval after the fact must cover "
                    "exactly what shipped"])
        mine = [a for a in records.approvals_for(store, row["id"])
                if a.approver == ctx.actor.name and a.decision == "approved" and not a.stale]
        if mine and not retro:
            return records.get_hotfix(store, key)  # a person counts once
        values = _bound_row(ctx, store, row, "approved", comment, now, retroactive=retro)
        store.insert("approvals", values)
        audit.append(store, ctx.actor, now, "approval", row["key"],
                     "approval.retroactive" if retro else "approval.approved",
                     after={"sha": values["head_sha"], "tree": values["tree_sha"],
                            "comment": comment or None},
                     incident=row["incident_key"], hotfix=row["key"])
        if retro:
            store.execute("UPDATE hotfixes SET needs_retroactive_approval = 0 WHERE id = ?",
                          (row["id"],))
        else:
            valid = appr.valid_approvers(records.approvals_for(store, row["id"]))
            if (HotfixState(row["state"]) is HotfixState.IN_REVIEW
                    and len(valid) >= ctx.config.approvals.required):
                set_state(ctx, store, row, HotfixState.APPROVED, now, "hotfix.approved",
                          approvers=sorted(valid), sha=values["head_sha"],
                          comment=comment or None)
        return records.get_hotfix(store, key)


def reject(ctx: Context, key: str, comment: str) -> Hotfix:
    comment = clean_text(comment, "comment")
    if not comment:
        raise ValidationError("a rejection needs a --comment saying why")
    with ctx.open(create=False) as store:
        hf = load(ctx, key, store)
    if hf.author == ctx.actor.name:
        raise PolicyRefusal(f"reject {hf.key}", [
            f"you authored {hf.key}; edit it, or abandon it, instead of rejecting"])
    if hf.state not in (HotfixState.IN_REVIEW, HotfixState.APPROVED):
        raise PolicyRefusal(f"reject {hf.key}", [
            f"{hf.key} is {hf.state}; only a hotfix in review can be rejected"])
    check_hotfix_transition(hf.key, hf.state, HotfixState.DRAFT)
    now = ctx.now()
    with ctx.writing() as store, store.write():
        row = records.hotfix_row(store, key)
        store.insert("approvals", _bound_row(ctx, store, row, "rejected", comment, now))
        store.execute("UPDATE approvals SET stale = 1, stale_reason = ? WHERE hotfix_id = ? "
                      "AND stale = 0 AND decision = 'approved'",
                      (f"superseded by rejection from {ctx.actor.name}", row["id"]))
        set_state(ctx, store, row, HotfixState.DRAFT, now, "hotfix.rejected", comment=comment)
        return records.get_hotfix(store, key)


def review_queue(ctx: Context) -> list[Hotfix]:
    """Hotfixes waiting for the acting user's approval (not their own, not yet approved
    by them)."""
    with ctx.reading() as store:
        items = records.list_hotfixes(store, state=str(HotfixState.IN_REVIEW))
        items += [h for h in records.list_hotfixes(store, active_only=True)
                  if h.needs_retroactive_approval]
    me = ctx.actor.name
    out = []
    seen = set()
    for h in items:
        if h.key in seen or h.author == me:
            continue
        if any(a.approver == me and a.decision == "approved" and not a.stale
               for a in h.approvals) and not h.needs_retroactive_approval:
            continue
        seen.add(h.key)
        out.append(h)
    return out

