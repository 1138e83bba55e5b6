"""Plain values the rest of the program passes around."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

from .signature import UNSIGNED, SignatureCheck, parse_signature


class Severity:
    """SEV1 is the worst. When unsure, pick the higher severity (lower number)."""

    MIN = 1
    MAX = 4
    LABELS = {1: "SEV1", 2: "SEV2", 3: "SEV3", 4: "SEV4"}


class IncidentStatus(StrEnum):
    OPEN = "open"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"


class HotfixState(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    DEPLOYING = "deploying"
    DEPLOYED = "deployed"
    VERIFIED = "verified"
    FINISHED = "finished"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    ABANDONED = "abandoned"


class VerificationState(StrEnum):
    """A hotfix's verification on one environment it was deployed to."""

    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"


class RunKind(StrEnum):
    DEPLOY = "deploy"
    VERIFY = "verify"
    ROLLBACK = "rollback"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self is not RunStatus.RUNNING


def none_if_empty(d: dict[str, Any], *names: str) -> dict[str, Any]:
    """The JSON contract: a value that is absent is null, never "" (docs/schema)."""
    for name in names:
        if d.get(name) == "":
            d[name] = None
    return d


def _fields_of(record: Any) -> dict[str, Any]:
    """A record's fields, one level deep. Each to_json converts the records it nests
    itself; dataclasses.asdict would first deep-copy every one of them (a page of 100
    hotfixes: ~5 000 copies), only for them to be replaced."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def actor_label(name: str, verified: bool, account: str = "") -> str:
    """How an actor is shown: an override identity is always marked, with the OS account
    behind it when known."""
    if verified:
        return name
    if account and account != name:
        return f"{name} (unverified, OS account {account})"
    return f"{name} (unverified)"


@dataclass(frozen=True)
class Actor:
    """The person acting: the OS account, or a marked override name."""

    name: str
    verified: bool = True
    os_account: str = ""

    @property
    def label(self) -> str:
        return actor_label(self.name, self.verified)


@dataclass(frozen=True)
class Incident:
    """An incident, as recorded."""

    key: str
    title: str
    severity: int
    status: IncidentStatus
    service: str
    commander: str
    opened_by: str
    opened_by_verified: bool
    opened_at: str
    mitigated_at: str | None = None
    resolved_at: str | None = None

    @property
    def number(self) -> int:
        return int(self.key.split("-", 1)[1])

    @property
    def sev_label(self) -> str:
        return Severity.LABELS.get(self.severity, f"SEV{self.severity}")

    def to_json(self) -> dict[str, Any]:
        d = _fields_of(self)
        d["status"] = str(self.status)
        return none_if_empty(d, "service", "commander")


@dataclass(frozen=True)
class ChecklistItem:
    """One item of a hotfix's scope checklist, checked by a person or a rule."""

    n: int
    text: str
    automatic: bool
    checked: bool
    checked_by: str | None = None
    checked_by_verified: bool = True
    checked_at: str | None = None
    passed: bool | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return none_if_empty(_fields_of(self), "detail")


@dataclass(frozen=True)
class Approval:
    """One approval or rejection of a hotfix, bound to the content it saw."""

    approver: str
    approver_verified: bool
    decision: str  # "approved" | "rejected"
    sha: str
    tree_sha: str
    checklist_hash: str
    config_hash: str
    stale: bool
    stale_reason: str
    at: str
    comment: str = ""
    retroactive: bool = False
    doc_hash: str = ""
    id: int = 0
    approver_account: str = ""  # the OS account behind `approver` ('' when unknown)
    backed: bool = True  # an audit event with exactly this content is in the chain
    counts: bool = False  # counts towards [approvals] required (core.approval.judge)
    not_counted: str = ""  # why it does not count, when it does not
    counted_as: str = ""  # the person it counts for (an account; a name in a sandbox)
    signature: str = ""  # the armored `ssh-keygen -Y sign` output; "" when unsigned
    signature_version: int = 0  # the version of the payload it signs
    repository: str = ""  # the repository identity the payload names
    signer: str = ""  # the principal the signature was made and checked for
    check: SignatureCheck | None = None  # the signature verified (services fill it in)
    origin: str = ""  # the site it was fetched from (hotfix sync); "" when given here

    def to_json(self) -> dict[str, Any]:
        d = _fields_of(self)
        for name in ("counted_as", "signature", "signature_version", "check", "repository",
                     "signer"):
            d.pop(name)
        d["signature"] = self.signature_check().to_json()
        return none_if_empty(d, "stale_reason", "comment", "doc_hash", "approver_account",
                             "not_counted", "origin")

    def signature_check(self) -> SignatureCheck:
        """The verification, or what can be said without one."""
        if self.check is not None:
            return self.check
        if not self.signature:
            return UNSIGNED
        try:
            fp = parse_signature(self.signature).fingerprint
        except ValueError:
            fp = None
        return SignatureCheck(True, self.approver, fp, None,
                              "not verified here (hotfix show verifies it)")


# Hotfix fields that are empty until someone fills them in.
HOTFIX_OPTIONAL_TEXT = ("why", "risk", "test_plan", "rollback_plan", "scope_accepted_reason",
                        "break_glass_reason", "skip_verify_reason", "tag")


@dataclass(frozen=True)
class EnvVerification:
    """A hotfix on one environment: the content deployed there, and its verification."""

    env: str
    sha: str
    version: str
    state: VerificationState
    deployed_at: str
    deploy: str | None = None  # the deploy run that put it there
    verified_at: str | None = None  # when the verification passed
    verified_by: str | None = None
    verified_by_verified: bool = True
    run: str | None = None  # the verify run that decided the state, if any
    rolled_back_by: str | None = None  # the rollback run that took it away again

    def to_json(self) -> dict[str, Any]:
        d = _fields_of(self)
        d["state"] = str(self.state)
        return d


@dataclass(frozen=True)
class Hotfix:
    """A hotfix, as recorded, with its approvals, checklist and environments."""

    key: str
    incident: str
    title: str
    author: str
    author_verified: bool
    base_ref: str
    base_sha: str
    branch: str
    worktree: str
    head_sha: str
    version: str
    state: HotfixState
    why: str = ""
    risk: str = ""
    test_plan: str = ""
    rollback_plan: str = ""
    created_at: str = ""
    updated_at: str = ""
    scope_accepted_reason: str = ""
    break_glass: bool = False
    break_glass_reason: str = ""
    needs_retroactive_approval: bool = False
    skip_verify_reason: str = ""
    tag: str = ""
    author_account: str = ""  # the OS account that authored it, whatever name it used
    approvals: tuple[Approval, ...] = ()
    checklist: tuple[ChecklistItem, ...] = ()
    last_deploy_status: str | None = None
    # every environment it was deployed to, in the order of their latest deploy there
    environments: tuple[EnvVerification, ...] = ()

    @property
    def number(self) -> int:
        return int(self.key.split("-", 1)[1])

    def to_json(self) -> dict[str, Any]:
        d = _fields_of(self)
        d["state"] = str(self.state)
        d["approvals"] = [a.to_json() for a in self.approvals]
        d["checklist"] = [c.to_json() for c in self.checklist]
        d["environments"] = [e.to_json() for e in self.environments]
        return none_if_empty(d, *HOTFIX_OPTIONAL_TEXT, "author_account")


@dataclass(frozen=True)
class Deploy:
    """One run (deploy, verify or rollback) on one environment."""

    key: str
    hotfix: str | None
    env: str
    kind: RunKind
    status: RunStatus
    exit_code: int | None
    signal: int | None
    sha: str
    version: str
    previous_sha: str
    previous_version: str
    started_by: str
    started_by_verified: bool
    started_at: str
    finished_at: str | None
    heartbeat_at: str | None
    lines: int
    break_glass: bool
    break_glass_reason: str = ""
    argv: tuple[str, ...] = ()
    pid: int | None = None
    host: str = ""
    cancelled_by: str | None = None
    reason: str = ""
    truncated: bool = False
    # the promotion rules a break-glass deploy went past (what they still needed)
    bypassed: tuple[str, ...] = ()
    # processes its stop could not end: {pid, start, account, command} (deploy/procs.py)
    survivors: tuple[dict, ...] = ()

    def to_json(self) -> dict[str, Any]:
        d = _fields_of(self)
        d["kind"] = str(self.kind)
        d["status"] = str(self.status)
        d["argv"] = list(self.argv)
        d["bypassed"] = list(self.bypassed)
        d["survivors"] = [dict(s) for s in self.survivors]
        d["line_count"] = d.pop("lines")
        return none_if_empty(d, "previous_sha", "previous_version", "break_glass_reason",
                             "host", "reason")


@dataclass(frozen=True)
class LogLine:
    """One line of a run's output, made safe to show, with what was done to it."""

    seq: int
    stream: str  # "out" | "err" | "sys"
    at: str
    text: str
    flags: int = 0

    TRUNCATED = 1
    INVALID_UTF8 = 2
    HAD_ANSI = 4
    CONTROL = 8  # control characters replaced by visible placeholders

    @property
    def truncated(self) -> bool:
        return bool(self.flags & self.TRUNCATED)

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "stream": self.stream, "at": self.at, "text": self.text,
                "flags": self.flags}

    @property
    def invalid_utf8(self) -> bool:
        return bool(self.flags & self.INVALID_UTF8)


@dataclass(frozen=True)
class EnvironmentStatus:
    """What runs on one environment, its lock, and what a deploy there needs."""

    env: str
    version: str | None
    sha: str | None
    deployed_by: str | None
    deployed_at: str | None
    locked: bool
    locked_by: str | None
    lock_reason: str | None
    locked_at: str | None = None
    running: dict[str, Any] | None = None
    # the release path: what a deploy here requires first, and for how long
    requires: tuple[str, ...] = ()
    min_soak_s: float = 0.0
    # the hotfix whose release runs here, and its verification here
    hotfix: str | None = None
    verification: VerificationState | None = None
    verified_at: str | None = None
    verified_by: str | None = None
    # deploys and locks made here on two sites apart (hotfix sync: core.sitesync)
    conflicts: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        d = none_if_empty(asdict(self), "version", "sha", "deployed_by", "deployed_at",
                          "locked_by", "lock_reason", "locked_at")
        d["requires"] = list(self.requires)
        d["conflicts"] = list(self.conflicts)
        d["verification"] = str(self.verification) if self.verification else None
        return d


@dataclass(frozen=True)
class AuditEvent:
    """One event of the audit chain: who did what, before and after."""

    id: int
    at: str
    actor: str
    actor_verified: bool
    entity: str
    entity_key: str
    action: str
    before: Any
    after: Any
    incident: str | None
    hotfix: str | None
    prev_hash: str
    hash: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
