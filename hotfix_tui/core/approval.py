"""What an approval is bound to, when it goes stale, and who may approve.

An approval binds the head commit, its tree, the checklist state, the
documentation and the repository config. Any later change of one of them makes
it stale: it stays in the record, marked, and stops counting.

The two-person rule is about OS accounts, never display names: the author is the
account that did the work; an account never approves what it authored, under any
name or case; an account counts once. An approval counts only when an audit event
with exactly its content is in the chain (`record`), so a row written with plain
SQL is shown, marked, and not counted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .models import Approval, AuditEvent, ChecklistItem, Hotfix, HotfixState
from .signature import parse_signature, signature_counts, signature_refusal

# Events that create an approval row; the row's content is the event's `after`
# (a rejection's is the `approval` of its hotfix.rejected event).
CREATING = ("approval.approved", "approval.retroactive", "hotfix.rejected")


@dataclass(frozen=True)
class Policy:
    """How a repository judges approvals ([identity] in .hotfix.toml)."""

    overrides_allowed: bool = False  # $HOTFIX_ACTOR is honoured (as a marked display name)
    sandbox: bool = False  # demos and tests: each $HOTFIX_ACTOR name is its own person
    # "required": an approval counts only with a verified signature (its `check`, which
    # services fill in); judging without the checks leaves this "optional"
    signatures: str = "optional"


STRICT = Policy()


@dataclass(frozen=True)
class Binding:
    """The content an approval is bound to: head, tree, checklist, document, config."""

    head_sha: str
    tree_sha: str
    checklist_hash: str
    doc_hash: str
    config_hash: str


def _digest(value) -> str:
    import hashlib  # only approvals hash: the reads that load this module never do

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


def record(*, approval_id: int, hotfix: str, approver: str, account: str, verified: bool,
           decision: str, head_sha: str, tree_sha: str, checklist_hash: str, doc_hash: str,
           config_hash: str, retroactive: bool, comment: str, at: str,
           signature: str = "") -> dict[str, Any]:
    """An approval's whole content, canonical: what its audit event carries and what a row
    must match to count. A signed one names its signature too (the key's fingerprint and
    a hash of the signature), so a signature stripped or swapped in the row no longer
    matches its event."""
    out = {"approval": approval_id, "hotfix": hotfix, "decision": decision,
           "approver": approver, "account": account, "verified": bool(verified),
           "sha": head_sha, "tree": tree_sha, "checklist_hash": checklist_hash,
           "doc_hash": doc_hash, "config_hash": config_hash,
           "retroactive": bool(retroactive), "comment": comment, "at": at}
    if signature:
        out["signature"] = signature_digest(signature)
    return out


def signature_digest(armored: str) -> dict[str, str | None]:
    """What an event says of a signature: its key, and a hash of the signature itself."""
    import hashlib

    try:
        fp = parse_signature(armored).fingerprint
    except ValueError:
        fp = None
    return {"key": fp, "sha256": hashlib.sha256(armored.encode("utf-8")).hexdigest()}


def record_of(a: Approval, hotfix: str) -> dict[str, Any]:
    return record(approval_id=a.id, hotfix=hotfix, approver=a.approver,
                  account=a.approver_account, verified=a.approver_verified,
                  decision=a.decision, head_sha=a.sha, tree_sha=a.tree_sha,
                  checklist_hash=a.checklist_hash, doc_hash=a.doc_hash,
                  config_hash=a.config_hash, retroactive=a.retroactive, comment=a.comment,
                  at=a.at, signature=a.signature)


def _carried(ev: AuditEvent) -> dict | None:
    if ev.action == "hotfix.rejected":
        rec = ev.extra.get("approval")
    elif ev.action in CREATING:
        rec = ev.after
    else:
        return None
    return rec if isinstance(rec, dict) else None


def _legacy_match(a: Approval, ev: AuditEvent) -> bool:
    """An approval of an earlier version: its event carried the sha, the tree and the
    comment; the approver and the time are the event's own."""
    after = ev.after if isinstance(ev.after, dict) else {}
    if ev.action == "hotfix.rejected":
        return (a.decision == "rejected" and ev.actor == a.approver and ev.at == a.at
                and (ev.extra.get("comment") or "") == a.comment)
    return (a.decision == "approved" and ev.actor == a.approver and ev.at == a.at
            and after.get("sha") == a.sha and after.get("tree") == a.tree_sha
            and (after.get("comment") or "") == a.comment
            and a.retroactive == (ev.action == "approval.retroactive"))


def chain_problems(approvals: Iterable[Approval], hotfix: str,
                   events: Iterable[AuditEvent]) -> dict[int, str]:
    """For each approval (by id), what the audit chain says against it ('' if nothing):
    no event with its content, or marked valid where the chain says it went stale. The
    events are the hotfix's, in chain order."""
    events = list(events)
    out: dict[int, str] = {}
    for a in approvals:
        want = record_of(a, hotfix)
        born = None
        for ev in events:
            rec = _carried(ev)
            if rec is not None and rec.get("approval") == a.id:
                if rec == want:
                    born = ev
                    break
            elif rec is None and ev.action in CREATING and _legacy_match(a, ev):
                born = ev
                break
        if born is None:
            out[a.id] = "no audit event backs it"
            continue
        stale = _stale_in_chain(a, born, events)
        if a.decision == "approved" and stale and not a.stale:
            out[a.id] = f"marked valid, but the audit chain says it went stale ({stale})"
        else:
            out[a.id] = ""
    return out


def _stale_in_chain(a: Approval, born: AuditEvent, events: list[AuditEvent]) -> str:
    """Whether the chain, after `born`, leaves the approval stale: an approval.stale event
    naming it (or, for records of earlier versions, its approver at its sha), undone by a
    later event naming it with stale = false; or a rejection, which supersedes every
    approval before it."""
    state = ""
    for ev in events:
        if ev.id <= born.id:
            continue
        before = ev.before if isinstance(ev.before, dict) else {}
        after = ev.after if isinstance(ev.after, dict) else {}
        if ev.action == "hotfix.rejected":
            state = f"superseded by the rejection of event {ev.id}"
        elif ev.entity == "approval" and (
                before.get("approval") == a.id or after.get("approval") == a.id
                or ("approval" not in before and before.get("approver") == a.approver
                    and before.get("sha") == a.sha)):
            if after.get("stale") is True:
                state = f"event {ev.id}: {after.get('reason') or 'stale'}"
            elif after.get("stale") is False:
                state = ""
    return state


def person(name: str, account: str, policy: Policy) -> str:
    """Who counts: the OS account; in a sandbox, the name (one account plays several)."""
    if policy.sandbox:
        return name.casefold()
    return account or name


@dataclass(frozen=True)
class Author:
    """Who wrote a hotfix: the name it used and the OS account behind it."""

    name: str
    account: str  # '' when unknown (a record of an earlier version without one)


def author_of(hf: Hotfix) -> Author:
    return Author(hf.author, hf.author_account)


def is_author(author: Author, name: str, account: str, policy: Policy) -> bool:
    """Is (name, account) the author, under whatever name or case? In a sandbox, where one
    account plays several people, the name decides."""
    ids = {author.name.casefold()}
    if policy.sandbox:
        return name.casefold() in ids
    if author.account:
        if account and account == author.account:
            return True
        ids.add(author.account.casefold())
    return name.casefold() in ids or account.casefold() in ids


def _evolve(a: Approval, **changes: Any) -> Approval:
    """`dataclasses.replace(a, **changes)` without running __init__ over all of an
    approval's fields again (Approval has no __post_init__, no init=False field and no
    slots, so a copy of its fields with `changes` set is the same value): judging a
    dashboard's worth of approvals was mostly replace's field-by-field copying."""
    unknown = changes.keys() - a.__dict__.keys()
    if unknown:
        raise TypeError(f"Approval has no field {sorted(unknown)[0]!r}")
    new = object.__new__(type(a))
    new.__dict__.update(a.__dict__)
    new.__dict__.update(changes)
    return new


def judge(author: Author, approvals: Iterable[Approval], policy: Policy,
          unbacked: dict[int, str] | None = None) -> tuple[Approval, ...]:
    """The approvals with `counts` and `not_counted` set: rejected, stale, unbacked (by
    id, what the chain says against it: `chain_problems`), made under an override the
    repository does not allow, by the author's account, or by an account that counted
    already do not count."""
    out = []
    counted: dict[str, str] = {}
    unbacked = unbacked or {}
    for a in approvals:
        who = person(a.approver, a.approver_account, policy)
        against = unbacked.get(a.id, "")
        if against:
            a = _evolve(a, backed=False)
        why = _why_not(a, author, policy, against) or (
            f"account {a.approver_account or who} counted already (as {counted[who]})"
            if who in counted else "")
        if not why:
            counted[who] = a.approver
        out.append(_evolve(a, counts=not why, not_counted=why, counted_as=who if not why
                           else ""))
    return tuple(out)


def _why_not(a: Approval, author: Author, policy: Policy, against: str) -> str:
    """Why this one approval does not count, whoever else approved ('' if it may)."""
    if a.decision != "approved":
        return against or a.decision  # a rejection no event backs: say so too
    if a.stale:
        return f"stale: {a.stale_reason}"
    if not a.backed:
        return against or a.not_counted or "no audit event backs it"
    if not a.approver_verified and not policy.overrides_allowed:
        return (f"given as {a.approver} under an identity override, which this repository "
                "does not allow ([identity] allow_override)")
    if is_author(author, a.approver, a.approver_account, policy):
        return (f"by the author ({author.name})" if policy.sandbox else
                f"by the author's account ({a.approver_account or a.approver})")
    return signature_refusal(a.approver, a.check, signatures_for(a, policy.signatures))


def signatures_for(a: Approval, policy: str) -> str:
    """How an approval's signature is judged: one fetched from another site (hotfix sync)
    counts only with a signature that verifies here, whatever the repository requires of
    its own."""
    return "required" if a.origin else policy


def valid_approvers(approvals) -> set[str]:
    """Distinct people whose approval counts (judged: see `judge`)."""
    return {a.counted_as for a in approvals if a.counts}


def signature_refusals(approvals, signatures: str) -> list[str]:
    """Why live approvals do not count for want of a good signature."""
    return [signature_refusal(a.approver, a.check, signatures_for(a, signatures))
            for a in approvals if a.decision == "approved" and not a.stale
            and not signature_counts(a.check, signatures_for(a, signatures))]


# States past review in which a hotfix may be deployed again (to another environment):
# when its approvals went stale there (say .hotfix.toml changed), it is approved again
# where it stands, bound to the content as it is now.
REAPPROVABLE = (HotfixState.DEPLOYED, HotfixState.VERIFIED, HotfixState.FAILED)


def approval_refusal(hotfix: Hotfix, approver: str, retroactive_allowed: bool = True,
                     account: str = "", policy: Policy = STRICT, required: int = 1) -> str:
    """Why `approver` (OS account `account`) may not approve now, or '' if they may.
    `required` is [approvals] required: past review, an approval is given only while
    those that count are fewer."""
    if is_author(author_of(hotfix), approver, account, policy):
        if policy.sandbox or not hotfix.author_account:
            return f"you authored {hotfix.key}; the author can never approve it"
        return (f"you authored {hotfix.key} (OS account {hotfix.author_account}); the "
                "author's account can never approve it, under any name")
    if hotfix.needs_retroactive_approval and retroactive_allowed and hotfix.state in (
        HotfixState.DEPLOYING, HotfixState.DEPLOYED, HotfixState.VERIFIED,
        HotfixState.FAILED, HotfixState.ROLLED_BACK,
    ):
        return ""
    if hotfix.state in REAPPROVABLE:
        if len(valid_approvers(hotfix.approvals)) < required:
            return ""
        return (f"{hotfix.key} is {hotfix.state} and its approvals count; nothing to "
                "approve (an approval is given again only when one went stale)")
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
