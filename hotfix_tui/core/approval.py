"""What an approval is bound to, when it goes stale, and who may approve.

An approval binds the head commit, its tree, the checklist state, the
documentation and the repository config. Any later change of one of them makes
it stale: it stays in the record, marked, and stops counting.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from .models import Approval, ChecklistItem, Hotfix, HotfixState
from .signature import signature_counts, signature_refusal


@dataclass(frozen=True)
class Binding:
    head_sha: str
    tree_sha: str
    checklist_hash: str
    doc_hash: str
    config_hash: str


def _digest(value) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def checklist_hash(items: list[ChecklistItem] | tuple[ChecklistItem, ...]) -> str:
    return _digest([[i.n, i.text, bool(i.checked)] for i in items if not i.automatic])


def doc_hash(title: str, why: str, risk: str, test_plan: str, rollback_plan: str) -> str:
    return _digest([title, why, risk, test_plan, rollback_plan])


def stale_reason(approval: Approval, now: Binding) -> str:
    """Why `approval` no longer matches the content, or '' if it still does."""
    reasons = []
    if approval.sha != now.head_sha:
        reasons.append(f"head moved {approval.sha[:8]}→{now.head_sha[:8]}")
    elif approval.tree_sha != now.tree_sha:
        reasons.append("tree changed")
    if approval.checklist_hash != now.checklist_hash:
        reasons.append("checklist changed")
    if approval.doc_hash and approval.doc_hash != now.doc_hash:
        reasons.append("documentation changed")
    if approval.config_hash != now.config_hash:
        reasons.append(".hotfix.toml changed")
    return ", ".join(reasons)


def valid_approvers(approvals, signatures: str = "optional") -> set[str]:
    """Distinct people whose approval still counts (a person counts once). Under
    `signatures = "required"` an approval counts only with a verified signature (its
    `check`, filled in by whoever verified it)."""
    return {a.approver for a in approvals if a.decision == "approved" and not a.stale
            and signature_counts(a.check, signatures)}


def signature_refusals(approvals, signatures: str) -> list[str]:
    """Why live approvals do not count for want of a good signature."""
    return [signature_refusal(a.approver, a.check, signatures) for a in approvals
            if a.decision == "approved" and not a.stale
            and not signature_counts(a.check, signatures)]


def approval_refusal(hotfix: Hotfix, approver: str, retroactive_allowed: bool = True) -> str:
    """Why `approver` may not approve now, or '' if they may."""
    if approver == hotfix.author:
        return f"you authored {hotfix.key}; the author can never approve it"
    if hotfix.needs_retroactive_approval and retroactive_allowed and hotfix.state in (
        HotfixState.DEPLOYING, HotfixState.DEPLOYED, HotfixState.VERIFIED,
        HotfixState.FAILED, HotfixState.ROLLED_BACK,
    ):
        return ""
    if hotfix.state not in (HotfixState.IN_REVIEW, HotfixState.APPROVED):
        return f"{hotfix.key} is {hotfix.state}; only a hotfix in review can be approved"
    return ""


def submit_blockers(hotfix: Hotfix, checklist: list[ChecklistItem], commits: int,
                    accept_scope: str = "") -> list[str]:
    """Every reason `submit` is refused now (empty: it may go to review)."""
    reasons = []
    if hotfix.state is not HotfixState.DRAFT:
        reasons.append(f"{hotfix.key} is {hotfix.state}, not draft")
    if commits == 0:
        reasons.append("no commit beyond the base: pick or commit the fix first")
    for label, value in (("why", hotfix.why), ("risk", hotfix.risk),
                         ("test plan", hotfix.test_plan),
                         ("rollback plan", hotfix.rollback_plan)):
        if not value.strip():
            reasons.append(f"documentation: {label} is empty")
    for item in checklist:
        if not item.automatic and not item.checked:
            reasons.append(f"checklist item {item.n} not ticked: {item.text}")
    if not accept_scope:
        for item in checklist:
            if item.automatic and not item.passed:
                reasons.append(f"scope: {item.text} failed ({item.detail})")
    return reasons
