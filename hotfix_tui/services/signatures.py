"""Signed approvals: sign a decision with the approver's SSH key, and verify a recorded
one against the allowed signers kept in the repository.

Who may sign is `[approvals] allowed_signers` (git's format) at the commit the
approval binds: the list of approvers is reviewed like code. A hotfix cannot add its
own approvers: when it changes that file, a key must also be listed in the file at
the hotfix's base.

Verification runs ssh-keygen; its answer depends only on the bytes involved, so it is
kept per process (a console redrawing every second verifies each signature once).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from .. import gitops, signing
from ..core import approval as appr
from ..core.errors import GitError, HotfixError, PolicyRefusal
from ..core.models import Approval, Hotfix, HotfixState
from ..core.record_signatures import payload_text
from ..core.signature import (
    NAMESPACE,
    PAYLOAD_VERSION,
    UNSIGNED,
    SignatureCheck,
    approval_payload,
    parse_signature,
    payload_for,
    principal_problem,
    verify_time,
)
from . import notices
from .context import Context

SIGNING_KEY_ENV = "HOTFIX_SIGNING_KEY"
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_CACHE_MAX = 4096
_checks: dict[str, SignatureCheck] = {}
_files: dict[tuple[str, str, str], str | None] = {}
_roots: dict[tuple[str, str], str] = {}


def policy(ctx: Context) -> str:
    return ctx.fresh_config().approvals.signatures


# ---- what the repository says ----------------------------------------------------------------

def repository_id(cwd: Path, sha: str) -> str:
    """The repository's identity as a payload names it: its root commits (the same in
    every clone), seen from `sha`."""
    key = (str(cwd), sha)
    if key not in _roots:
        if not _SHA.match(sha):
            raise GitError(f"not a commit id: {sha!r}")
        _roots[key] = ",".join(gitops.root_commits(cwd, sha))
    return _roots[key]


def allowed_signers_at(cwd: Path, path: str, commit: str) -> str | None:
    """The allowed signers file at `commit` (None: no such file, or no such commit)."""
    key = (str(cwd), commit, path)
    if key not in _files:
        if not _SHA.match(commit):
            return None
        raw = gitops.file_at(cwd, commit, path)
        _files[key] = None if raw is None else raw.decode("utf-8", "replace")
    return _files[key]


# ---- judging one signature ---------------------------------------------------------------------

@dataclass(frozen=True)
class TrustList:
    """The allowed signers a signature is judged by, and where they come from."""

    text: str | None
    where: str
    base_text: str | None = None  # the list at the hotfix's base, when the hotfix changed it
    base_where: str = ""
    missing: str = ""  # why there is no list, when `text` is None

    @property
    def absent(self) -> str:
        return self.missing or f"no allowed signers: {self.where} does not exist"


def judge(payload: bytes, armored: str, principal: str, at: str,
          trust: TrustList) -> SignatureCheck:
    """Verify one signature; the reason says plainly what is wrong."""
    try:
        info = parse_signature(armored)
    except ValueError as exc:
        return SignatureCheck(True, principal, None, False, str(exc))
    fp = info.fingerprint
    key = hashlib.sha256(b"\0".join(s.encode("utf-8", "surrogateescape") for s in (
        armored, principal, at, trust.text or "\1", trust.where, trust.base_text or "\1",
        trust.base_where)) + b"\0" + payload).hexdigest()
    if key in _checks:
        return _checks[key]
    check = _judge(payload, armored, principal, at, trust, fp, info.namespace)
    if len(_checks) >= _CACHE_MAX:
        _checks.clear()
    _checks[key] = check
    return check


def _judge(payload: bytes, armored: str, principal: str, at: str, trust: TrustList,
           fp: str, namespace: str) -> SignatureCheck:
    def bad(reason: str) -> SignatureCheck:
        return SignatureCheck(True, principal, fp, False, reason)

    if namespace != NAMESPACE:
        return bad(f"signed for namespace {namespace!r}, not {NAMESPACE!r}")
    try:
        when = verify_time(at)
    except ValueError:
        return bad(f"the recorded time {at!r} is not a time")
    if not signing.intact(payload, armored):
        return bad("the signed content differs from the record: it was changed after "
                   "signing")
    if trust.text is None:
        return bad(trust.absent)
    if not signing.verify(payload, armored, trust.text, principal, at=when).ok:
        return bad(_not_allowed(armored, principal, fp, trust.text, trust.where, when))
    if trust.base_where and (trust.base_text is None or not signing.verify(
            payload, armored, trust.base_text, principal, at=when).ok):
        return bad(f"the hotfix changes the allowed signers itself, and key {fp} is not "
                   f"listed for {principal} in {trust.base_where} (a change cannot add "
                   "its own approvers)")
    return SignatureCheck(True, principal, fp, True, "")


def _not_allowed(armored: str, principal: str, fp: str, allowed: str, where_: str,
                 when: str) -> str:
    others = [p for p in signing.find_principals(armored, allowed, at=when) if p != principal]
    if others:
        return f"key {fp} is listed for {', '.join(others)}, not {principal}, in {where_}"
    return f"key {fp} is not listed for {principal} in {where_} (or not valid at that time)"


# ---- approvals in this repository ---------------------------------------------------------------

def trust_for(cwd: Path, path: str, head: str, base: str) -> TrustList:
    """The allowed signers at `head`; and at `base` too when the hotfix changed them."""
    text = allowed_signers_at(cwd, path, head)
    trust = TrustList(text, f"{path} at {head[:12]}")
    if text is None and not (_SHA.match(head) and gitops.commit_exists(cwd, head)):
        return TrustList(None, trust.where, missing=f"the approved commit {head[:40]!r} "
                         "is not in this repository")
    if text is None or not base or base == head:
        return trust
    base_text = allowed_signers_at(cwd, path, base)
    if base_text == text:
        return trust
    return TrustList(text, trust.where, base_text, f"{path} at {base[:12]}")


def _trust(ctx: Context, head: str, base: str) -> TrustList:
    return trust_for(ctx.require_repo().toplevel, ctx.fresh_config().approvals.allowed_signers,
                     head, base)


def check_approval(ctx: Context, hotfix_key: str, base_sha: str,
                   approval: Approval) -> SignatureCheck:
    if not approval.signature:
        return UNSIGNED
    try:
        payload = payload_for(approval, hotfix_key)
    except ValueError as exc:
        return SignatureCheck(True, approval.approver, fingerprint_of(approval.signature),
                              False, str(exc))
    cwd = ctx.require_repo().toplevel  # none here: not verifiable here (_safe_check)
    try:
        here = repository_id(cwd, base_sha)
    except GitError as exc:
        here = ""
        problem = str(exc)
    else:
        problem = ""
    if approval.repository != here:
        return SignatureCheck(True, approval.approver, fingerprint_of(approval.signature),
                              False, problem or "signed in another repository (root commit "
                              f"{approval.repository[:12] or 'none'}, here {here[:12]})")
    wrong = principal_problem({"principal": approval.signer, "approver": approval.approver,
                               "account": approval.approver_account})
    if wrong:
        return SignatureCheck(True, approval.signer, fingerprint_of(approval.signature),
                              False, wrong)
    trust = _trust(ctx, approval.sha, base_sha)
    return judge(payload, approval.signature, approval.signer, approval.at, trust)


def fingerprint_of(armored: str) -> str | None:
    try:
        return parse_signature(armored).fingerprint
    except ValueError:
        return None


def with_checks(ctx: Context, hf: Hotfix) -> Hotfix:
    """The hotfix with every approval's signature verified; under `signatures =
    "required"` judged again, so that one without a good signature does not count."""
    checked = tuple(replace(a, check=_safe_check(ctx, hf, a)) for a in hf.approvals)
    if policy(ctx) == "required" or fetched(hf):
        checked = appr.judge(appr.author_of(hf), checked,
                             replace(ctx.policy_now(), signatures=policy(ctx)))
    return replace(hf, approvals=checked)


def counted(ctx: Context, hf: Hotfix, required: bool | None = None) -> Hotfix:
    """What counts of an open hotfix's approvals when signatures are required (each
    signature verified once per process); the hotfix as it is otherwise. `required`:
    whether they are, when the caller has looked (once for a page of hotfixes)."""
    if required is None:
        required = policy(ctx) == "required"
    if (not required and not fetched(hf)) or hf.state in (
            HotfixState.FINISHED, HotfixState.ABANDONED):
        return hf
    return with_checks(ctx, hf)


def fetched(hf: Hotfix) -> bool:
    """Has the hotfix an approval fetched from another site (whose signature must verify
    here before it counts)?"""
    return any(a.origin for a in hf.approvals)


def _safe_check(ctx: Context, hf: Hotfix, approval: Approval) -> SignatureCheck:
    try:
        return check_approval(ctx, hf.key, hf.base_sha, approval)
    except HotfixError as exc:  # no repository, git refused: not verified, so it never
        if not approval.signature:  # counts where a signature is required
            return UNSIGNED
        return SignatureCheck(True, approval.signer or approval.approver,
                              fingerprint_of(approval.signature), None,
                              f"not verified here: {exc}")


def record_entries(ctx: Context, hf: Hotfix) -> list[dict]:
    """The approvals as an exported record carries them: each signature verified, with
    its armored text and payload, so the record verifies without the database."""
    out = []
    for a in with_checks(ctx, hf).approvals:
        entry = a.to_json()
        payload = None
        if a.signature:
            try:
                payload = payload_text(payload_for(a, hf.key))
            except ValueError:
                payload = None
        entry["signature"].update(armored=a.signature or None, payload=payload)
        out.append(entry)
    return out


def record_info(ctx: Context) -> dict:
    cfg = ctx.fresh_config().approvals
    return {"namespace": NAMESPACE, "policy": cfg.signatures,
            "allowed_signers": cfg.allowed_signers}


# ---- signing a decision ------------------------------------------------------------------------

@dataclass(frozen=True)
class Signed:
    """A signed decision, ready to record, and what to tell the approver."""

    columns: dict  # signature, signature_version, repository, signer: for the approvals row
    note: str  # what the approver should hear ('' when nothing)
    fingerprint: str = ""


def configured_key(ctx: Context) -> Path | None:
    """$HOTFIX_SIGNING_KEY, else [identity] signing_key, else None (the agent's keys)."""
    value = os.environ.get(SIGNING_KEY_ENV, "").strip() or ctx.fresh_config().identity.signing_key
    return Path(value).expanduser() if value else None


def sign_decision(ctx: Context, action: str, hotfix_key: str, base_sha: str,
                  values: dict) -> Signed:
    """Sign the decision about to be recorded (`values`: its approvals row). Under
    `required`, a decision that cannot be signed is refused with the reason and the
    fix; under `optional` it is recorded unsigned, and the note says why."""
    pol = policy(ctx)
    if pol == "off":
        return Signed({}, "")
    principal = principal_for(ctx, values)
    trust = _trust(ctx, values["head_sha"], base_sha)
    try:
        if trust.text is None:
            raise signing.SigningError(f"{trust.absent} (commit the list of approvers "
                                       "there; see the README, Signed approvals)")
        repo_id = repository_id(ctx.require_repo().toplevel, base_sha)
        payload = approval_payload(
            hotfix=hotfix_key, repository=repo_id, head_sha=values["head_sha"],
            tree_sha=values["tree_sha"], checklist_hash=values["checklist_hash"],
            doc_hash=values["doc_hash"], config_hash=values["config_hash"],
            decision=values["decision"], approver=values["approver"],
            account=values["approver_account"], principal=principal, at=values["at"],
            comment=values["comment"])
        agent = signing.agent_socket()
        key = signing.choose_key(principal, trust.text, trust.where,
                                 configured=configured_key(ctx), agent=agent)
        armored = signing.sign(payload, key, agent=agent)
        check = judge(payload, armored, principal, values["at"], trust)
        if not check.valid:
            raise signing.SigningError(f"the signature does not verify: {check.reason}")
    except signing.SigningError as exc:
        if pol == "required":
            raise PolicyRefusal(action, [f"cannot sign ([approvals] signatures = "
                                         f"\"required\"): {exc}"]) from exc
        if trust.text is None:
            return Signed({}, "")  # the team keeps no list of signers: nothing to say
        note = f"{values['decision']} unsigned: {exc}"
        notices.say(note)
        return Signed({}, note)
    return Signed({"signature": armored, "signature_version": PAYLOAD_VERSION,
                   "repository": repo_id, "signer": principal},
                  f"signed with {key.fingerprint}", key.fingerprint)


def my_principal(ctx: Context) -> str:
    """Whom the allowed signers are asked about for the acting person."""
    return principal_for(ctx, {"approver": ctx.actor.name,
                               "approver_account": ctx.actor.os_account})


def principal_for(ctx: Context, values: dict) -> str:
    """Whom the allowed signers are asked about: the approver's OS account; in a sandbox
    (one account playing several people) the name they approve as."""
    if ctx.approval_policy.sandbox:
        return values["approver"]
    return values["approver_account"] or values["approver"]


def signing_preview(ctx: Context, hf: Hotfix) -> str:
    """What would sign the acting person's decision on `hf` now, in a line for the
    confirmation (no signature is made); '' when there is nothing to say."""
    pol = policy(ctx)
    if pol == "off":
        return 'not signed ([approvals] signatures = "off")'
    trust = TrustList(None, "")
    try:
        trust = _trust(ctx, hf.head_sha, hf.base_sha)
        if trust.text is None:
            raise signing.SigningError(trust.absent)
        key = signing.choose_key(my_principal(ctx), trust.text, trust.where,
                                 configured=configured_key(ctx), agent=signing.agent_socket())
    except HotfixError as exc:
        if pol == "required":
            return f"REQUIRED, and it cannot be signed (the approval will be refused): {exc}"
        if trust.text is None:
            return ""  # the team keeps no list of signers: nothing to say
        return f"not signed: {exc}"
    source = "from your agent" if key.private_file is None else f"from {key.private_file}"
    return f"signed with {key.fingerprint} ({source}; listed in {trust.where})"


# ---- the whole database, for `hotfix audit verify` ---------------------------------------------

@dataclass(frozen=True)
class BadSignature:
    """A recorded decision whose signature does not verify."""

    hotfix: str
    approver: str
    decision: str
    at: str
    reason: str

    def to_json(self) -> dict:
        return {"hotfix": self.hotfix, "approver": self.approver, "decision": self.decision,
                "at": self.at, "reason": self.reason}


@dataclass(frozen=True)
class SignatureAudit:
    """Every recorded decision's signature checked."""

    checked: int  # signed decisions verified
    valid: int
    unsigned: int
    bad: tuple[BadSignature, ...]
    unverified: int = 0  # signed, but not verifiable here (no repository): not a problem

    def to_json(self) -> dict:
        return {"checked": self.checked, "valid": self.valid, "unsigned": self.unsigned,
                "unverified": self.unverified, "bad": [b.to_json() for b in self.bad]}


def audit_signatures(ctx: Context, hotfixes: list[Hotfix]) -> SignatureAudit:
    """Re-verify every signed decision of `hotfixes` (with their approvals)."""
    checked = valid = unsigned = unverified = 0
    bad = []
    for hf in hotfixes:
        for a in with_checks(ctx, hf).approvals:
            check = a.signature_check()
            if not a.signature:
                unsigned += 1
            elif check.valid is None:
                unverified += 1
            else:
                checked += 1
                if check.valid:
                    valid += 1
                else:
                    bad.append(BadSignature(hf.key, a.approver, a.decision, a.at, check.reason))
    return SignatureAudit(checked, valid, unsigned, tuple(bad), unverified)
