"""Scope, checklist, submit, approve and reject."""

from __future__ import annotations

from dataclasses import replace

from .. import gitops
from ..core import approval as appr
from ..core.errors import HotfixError, PolicyRefusal, ValidationError
from ..core.models import Approval, ChecklistItem, Hotfix, HotfixState
from ..core.scope import ScopeReport, automatic_items, evaluate
from ..core.workflow import check_hotfix_transition, clean_text
from ..store import records
from ..store.db import Store
from . import refusals, signatures
from .context import Context
from .hotfixes import (
    _fresh,
    binding,
    current_head,
    git_cwd,
    load,
    refresh_approvals,
    require_editable,
    sync,
)
from .reaping import reap
from .usecase import Change, change


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
        row = records.hotfix_row(store, key)
        if HotfixState(row["state"]) in (HotfixState.ABANDONED, HotfixState.FINISHED):
            hf = records.get_hotfix(store, key, policy=ctx.approval_policy)
        else:
            head = current_head(ctx, row)  # read once: the record's sync and the scope use it
            row = sync(ctx, key, store, head)
            hf = records.get_hotfix(store, key, policy=ctx.approval_policy)
            items, _ = full_checklist(ctx, store, row, _scope_for(ctx, row, head))
            hf = replace(hf, checklist=tuple(items))
    return signatures.with_checks(ctx, hf)


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
    with change(ctx, hotfix=key, check=require_editable) as c:
        current = c.store.one("SELECT * FROM checklist_items WHERE hotfix_id = ? AND "
                              "kind = 'scope' AND env = '' AND n = ?", (c.row["id"], n))
        if bool(current["checked"]) != checked:
            c.store.execute(
                "UPDATE checklist_items SET checked = ?, checked_by = ?, "
                "checked_by_verified = ?, checked_at = ? WHERE id = ?",
                (int(checked), ctx.actor.name if checked else None, int(ctx.actor.verified),
                 c.now if checked else None, current["id"]))
            c.audit("checklist.checked" if checked else "checklist.unchecked",
                    entity="checklist", before={"n": n, "checked": bool(current["checked"])},
                    after={"n": n, "text": current["text"], "checked": checked})
            refresh_approvals(ctx, c.store, c.row, c.now)
    return checklist(ctx, key)


def submit(ctx: Context, key: str, accept_scope: str | None = None) -> Hotfix:
    accept = clean_text(accept_scope, "scope acceptance reason") if accept_scope else ""
    if accept_scope is not None and not accept:
        raise ValidationError("--accept-scope needs a reason")
    with ctx.open(create=False) as store:
        hf = load(ctx, key, store)
        row = records.hotfix_row(store, key)
        items, report = full_checklist(ctx, store, row)
    blockers = refusals.submit(hf, items, report.commits, accept)
    if blockers:
        raise PolicyRefusal(f"submit {hf.key}", blockers)
    with change(ctx, hotfix=key) as c:
        if c.row["head_sha"] != hf.head_sha:
            raise HotfixError(f"{hf.key} changed while submitting; try again")
        if accept:
            c.store.execute("UPDATE hotfixes SET scope_accepted_reason = ? WHERE id = ?",
                            (accept, c.row["id"]))
        c.set_state(HotfixState.IN_REVIEW, "hotfix.submitted", head=c.row["head_sha"],
                    scope_accepted=accept or None,
                    violations=[v.to_json() for v in report.violations] or None)
        if ctx.config.approvals.required == 0:
            c.reread()
            c.set_state(HotfixState.APPROVED, "hotfix.approved", sha=c.row["head_sha"],
                        note="no approvals required by config")
    return _fresh(ctx, key)


def _bound(ctx: Context, store: Store, row, decision: str, comment: str, now: str) -> dict:
    """The approvals row of a decision on exactly the content as it is now."""
    b = binding(ctx, store, row, row["head_sha"])
    return {
        "hotfix_id": row["id"], "approver": ctx.actor.name,
        "approver_account": ctx.actor.os_account,
        "approver_verified": int(ctx.actor.verified), "decision": decision,
        "head_sha": b.head_sha, "tree_sha": b.tree_sha, "checklist_hash": b.checklist_hash,
        "doc_hash": b.doc_hash, "config_hash": b.config_hash, "comment": comment, "at": now,
        "retroactive": 0,
    }


def _insert_bound(store: Store, row, values: dict) -> dict:
    """Insert the decision; returns its record (core.approval.record), which its audit
    event carries whole, the signature included."""
    approval_id = store.insert("approvals", {"id": store.next_id("approvals"), **values})
    return appr.record(approval_id=approval_id, hotfix=row["key"], approver=values["approver"],
                       account=values["approver_account"],
                       verified=bool(values["approver_verified"]),
                       decision=values["decision"], head_sha=values["head_sha"],
                       tree_sha=values["tree_sha"], checklist_hash=values["checklist_hash"],
                       doc_hash=values["doc_hash"], config_hash=values["config_hash"],
                       retroactive=bool(values["retroactive"]), comment=values["comment"],
                       at=values["at"], signature=values.get("signature", ""))


def approve(ctx: Context, key: str, comment: str = "",
            expected_head: str | None = None,
            expected: appr.Binding | None = None) -> Hotfix:
    """Approve exactly the content as it is now, signed with the approver's SSH key where
    [approvals] signatures asks for it. `expected_head` (or the whole `expected` binding,
    from the console) refuses when the content changed since the approver looked."""
    comment = clean_text(comment, "comment")
    policy = ctx.approval_policy
    hf = _may_approve(ctx, key, expected_head)
    required = ctx.config.approvals.required
    # signing may wait for an agent or a security key: never inside the write lock
    values, signed = _sign(ctx, key, "approved", comment, f"approve {hf.key}")
    with change(ctx, hotfix=key) as c:
        store, row = c.store, c.row
        # again, inside the transaction: the content or the state may have moved on
        retro = _after_the_fact(row)
        fresh = records.get_hotfix(store, key, policy=policy)
        blockers = (_changed_since(ctx, store, row, hf.head_sha, expected)
                    or _changed_while_signing(ctx, store, row, values)
                    or refusals.approve(fresh, ctx.actor, policy, required)
                    or (_not_what_shipped(store, row) if retro else []))
        if blockers:
            raise PolicyRefusal(f"approve {hf.key}", blockers)
        if not refusals.mine(fresh, ctx.actor, policy) or retro:  # an account counts once
            _record_approval(c, {**values, "retroactive": int(retro), **signed.columns})
        hf = records.get_hotfix(store, key, policy=policy)
    return signatures.with_checks(ctx, hf)


def _may_approve(ctx: Context, key: str, expected_head: str | None) -> Hotfix:
    """The hotfix, once the approver may approve it as they saw it."""
    with ctx.open(create=False) as store:
        hf = load(ctx, key, store)
    blockers = refusals.approve(hf, ctx.actor, ctx.approval_policy,
                                ctx.config.approvals.required)
    if not blockers and expected_head and not hf.head_sha.startswith(expected_head.lower()):
        blockers = [f"approval stale: head moved to {hf.head_sha[:12]} since you looked "
                    f"({expected_head[:12]})"]
    if blockers:
        raise PolicyRefusal(f"approve {hf.key}", blockers)
    return hf


def _sign(ctx: Context, key: str, decision: str, comment: str,
          action: str) -> tuple[dict, signatures.Signed]:
    """The decision's row as it would be recorded now, and its signature."""
    with ctx.reading() as store:
        row = records.hotfix_row(store, key)
        values = _bound(ctx, store, row, decision, comment, ctx.now())
    return values, signatures.sign_decision(ctx, action, row["key"], row["base_sha"], values)


_BOUND = ("head_sha", "tree_sha", "checklist_hash", "doc_hash", "config_hash")


def _changed_while_signing(ctx: Context, store: Store, row, values: dict) -> list[str]:
    now = binding(ctx, store, row, row["head_sha"])
    if any(getattr(now, k) != values[k] for k in _BOUND):
        return ["the content changed while the decision was being signed; look again"]
    return []


def _after_the_fact(row) -> bool:
    """This approval is the one a break-glass deploy owes (not a review's)."""
    return bool(row["needs_retroactive_approval"]) and HotfixState(row["state"]) not in (
        HotfixState.IN_REVIEW, HotfixState.APPROVED)


def _changed_since(ctx: Context, store: Store, row, head: str,
                   expected: appr.Binding | None) -> list[str]:
    """The content moved since the approver looked (head, or the whole binding)."""
    if row["head_sha"] != head:
        return ["approval stale: head moved meanwhile"]
    if expected is None:
        return []
    seen = Approval(approver="", approver_verified=True, decision="approved",
                    sha=expected.head_sha, tree_sha=expected.tree_sha,
                    checklist_hash=expected.checklist_hash, config_hash=expected.config_hash,
                    stale=False, stale_reason="", at="", doc_hash=expected.doc_hash)
    changed = appr.stale_reason(seen, binding(ctx, store, row, row["head_sha"]))
    return [f"approval stale: {changed} since you looked; review it again"] if changed else []


def _not_what_shipped(store: Store, row) -> list[str]:
    """An approval after the fact covers exactly what the break-glass deploy shipped."""
    shipped = store.scalar("SELECT sha FROM deploys WHERE hotfix_id = ? AND break_glass = 1 "
                           "ORDER BY id DESC LIMIT 1", (row["id"],))
    if shipped and shipped != row["head_sha"]:
        return [f"the head moved since the break-glass deploy (deployed {shipped[:12]}, "
                f"head {row['head_sha'][:12]}); an approval after the fact must cover "
                "exactly what shipped"]
    return []


def _record_approval(c: Change, values: dict) -> None:
    """The approval row and its event, which carries its whole content."""
    retro, comment = bool(values["retroactive"]), values["comment"]
    content = _insert_bound(c.store, c.row, values)
    c.audit("approval.retroactive" if retro else "approval.approved", entity="approval",
            after=content)
    if retro:
        c.store.execute("UPDATE hotfixes SET needs_retroactive_approval = 0 WHERE id = ?",
                        (c.row["id"],))
        return
    judged = records.approvals_for(c.store, c.row, c.ctx.approval_policy)
    valid = appr.valid_approvers(judged)
    if (HotfixState(c.row["state"]) is HotfixState.IN_REVIEW
            and len(valid) >= c.ctx.config.approvals.required):
        c.set_state(HotfixState.APPROVED, "hotfix.approved",
                    approvers=sorted(a.approver for a in judged if a.counts),
                    sha=content["sha"], comment=comment or None)


def reject(ctx: Context, key: str, comment: str) -> Hotfix:
    comment = clean_text(comment, "comment")
    if not comment:
        raise ValidationError("a rejection needs a --comment saying why")
    with ctx.open(create=False) as store:
        hf = load(ctx, key, store)
    blockers = refusals.reject(hf, ctx.actor, ctx.approval_policy)
    if blockers:
        raise PolicyRefusal(f"reject {hf.key}", blockers)
    check_hotfix_transition(hf.key, hf.state, HotfixState.DRAFT)
    values, signed = _sign(ctx, key, "rejected", comment, f"reject {hf.key}")
    with change(ctx, hotfix=key) as c:
        blockers = (_changed_while_signing(ctx, c.store, c.row, values)
                    or refusals.reject(records.get_hotfix(c.store, key,
                                                          policy=ctx.approval_policy),
                                       ctx.actor, ctx.approval_policy))
        if blockers:
            raise PolicyRefusal(f"reject {hf.key}", blockers)
        content = _insert_bound(c.store, c.row, {**values, **signed.columns})
        c.store.execute("UPDATE approvals SET stale = 1, stale_reason = ? WHERE hotfix_id = ? "
                        "AND stale = 0 AND decision = 'approved'",
                        (f"superseded by rejection from {ctx.actor.name}", c.row["id"]))
        c.set_state(HotfixState.DRAFT, "hotfix.rejected", comment=comment, approval=content)
        hf = records.get_hotfix(c.store, key, policy=ctx.approval_policy)
    return signatures.with_checks(ctx, hf)


def review_queue(ctx: Context) -> list[Hotfix]:
    """Hotfixes waiting for the acting user's approval (not their own, under any name; not
    yet approved by their account)."""
    policy = ctx.approval_policy
    with ctx.reading() as store:
        items = records.list_hotfixes(store, state=str(HotfixState.IN_REVIEW), policy=policy)
        required = ctx.config.approvals.required
        items += [h for h in records.list_hotfixes(store, active_only=True, policy=policy)
                  if h.needs_retroactive_approval or (
                      h.state in appr.REAPPROVABLE
                      and len(appr.valid_approvers(h.approvals)) < required)]
    out = []
    seen = set()
    for h in items:
        if h.key in seen or appr.is_author(appr.author_of(h), ctx.actor.name,
                                           ctx.actor.os_account, policy):
            continue
        if refusals.mine(h, ctx.actor, policy) and not h.needs_retroactive_approval:
            continue
        seen.add(h.key)
        out.append(h)
    return out
