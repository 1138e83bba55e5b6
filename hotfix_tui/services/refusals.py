"""Why an action may not be taken now: one function per action, one wording per rule.

Each function returns every reason the action is refused (an empty list: it may be
taken). The services raise `PolicyRefusal` from these lists; the console's footer,
command palette, help ("now") and every refusal message read the same lists, so the
CLI and the console say exactly the same thing.
"""

from __future__ import annotations

from ..config import EnvironmentConfig
from ..core import approval as appr
from ..core.models import (
    Actor,
    Approval,
    ChecklistItem,
    Hotfix,
    HotfixState,
    Incident,
    IncidentStatus,
    VerificationState,
)
from ..core.promotion import Attempt
from ..core.promotion import blockers as promotion_blockers
from ..core.workflow import EDITABLE_STATES, INCIDENT_TRANSITIONS
from ..deploy.lifecycle import orphaned_runs, survivors_holding
from ..deploy.procs import survivors_of
from ..store import records, verifications
from ..store import runs as run_rows
from ..store.db import Store
from . import releases
from .context import Context

GATED_FROM = (HotfixState.APPROVED, HotfixState.DEPLOYED, HotfixState.VERIFIED,
              HotfixState.FAILED)
BREAK_GLASS_FROM = (HotfixState.DRAFT, HotfixState.IN_REVIEW) + GATED_FROM
BREAK_GLASS_DISABLED = "break-glass is disabled by [approvals] break_glass = false"


# ---- texts shared by several rules ----------------------------------------------------

def in_progress(row) -> str:
    """A run holds the environment."""
    started = row["started_at"][11:16]
    what = f"{row['kind']} {row['key']}" + (f" of {row['hotfix_key']}" if row["hotfix_key"]
                                            else "")
    return (f"{row['env']}: {what} in progress, started by {row['started_by']} at {started} "
            f"UTC; cancel it first (hotfix cancel {row['key']})")


def orphan(row) -> str:
    """A dead runner's command still holds the environment."""
    return (f"{row['env']}: the command of interrupted {row['kind']} {row['key']} is still "
            f"running (process group {row['pgid']}); stop it first: hotfix cancel {row['key']}")


def lock_text(lock) -> str:
    return (f"{lock['name']} is locked by {lock['locked_by']} since "
            f"{(lock['locked_at'] or '')[:16].replace('T', ' ')}: {lock['lock_reason']} "
            f"(hotfix unlock --env {lock['name']} --reason …)")


def survivor(row, s) -> str:
    """A process a run's stop could not end still holds the environment."""
    who = s.account if s.account == "root" else f"{s.account} or root"
    return (f"{row['env']}: process {s.pid} ({s.command}) of {row['status']} {row['kind']} "
            f"{row['key']} could not be stopped and still runs as {s.account}; stop it "
            f"(kill -KILL {s.pid}, as {who}), then hotfix cancel {row['key']}; or, if it no "
            f"longer matters, hotfix cancel {row['key']} --clear-survivors REASON")


def env_busy(store: Store, env_name: str) -> list[str]:
    """A run in progress on the environment, a dead runner's command still alive, or a
    process a run's stop could not end."""
    running = run_rows.list_runs(store, env=env_name, running_only=True)
    if running:
        return [in_progress(running[0])]
    orphans = orphaned_runs(store, env_name)[:1]
    if orphans:
        return [orphan(r) for r in orphans]
    return [survivor(r, left[0]) for r, left in survivors_holding(store, env_name)[:1]]


def locked(store: Store, env_name: str) -> list[str]:
    lock = records.environment_row(store, env_name)
    return [lock_text(lock)] if lock is not None and lock["locked"] else []


# ---- incidents ----------------------------------------------------------------------------

def start_hotfix(inc: Incident) -> list[str]:
    if inc.status is IncidentStatus.RESOLVED:
        return [f"{inc.key} is resolved; reopen it before starting a hotfix"]
    return []


def incident_status(inc: Incident, target: IncidentStatus) -> list[str]:
    """Mitigate, resolve or reopen: a move the incident's lifecycle allows."""
    if target is inc.status:
        return [f"{inc.key} is {target} already"]
    if target not in INCIDENT_TRANSITIONS[inc.status]:
        return [f"{inc.key} is {inc.status}; it cannot be {target} (reopen it first)"]
    return []


INCIDENT_VERBS = {IncidentStatus.MITIGATED: "mitigate", IncidentStatus.RESOLVED: "resolve",
                  IncidentStatus.OPEN: "reopen"}


# ---- hotfix content and review ------------------------------------------------------------

def submit(hf: Hotfix, checklist: list[ChecklistItem], commits: int,
           accept_scope: str = "") -> list[str]:
    return appr.submit_blockers(hf, checklist, commits, accept_scope)


def approve(hf: Hotfix, me: Actor, policy: appr.Policy, required: int = 1) -> list[str]:
    """The author's OS account never approves, under any name (core.approval); past
    review, only a hotfix whose approvals went stale is approved again."""
    refusal = appr.approval_refusal(hf, me.name, account=me.os_account, policy=policy,
                                    required=required)
    return [refusal] if refusal else []


def mine(hf: Hotfix, me: Actor, policy: appr.Policy) -> list[Approval]:
    """The acting person's approvals of `hf` that count (an account counts once)."""
    who = appr.person(me.name, me.os_account, policy)
    return [a for a in hf.approvals if a.counts and a.counted_as == who]


def already_approved(hf: Hotfix, me: Actor, policy: appr.Policy) -> str | None:
    """The console's note that a second approval by the same person would count for
    nothing (the CLI simply does nothing then)."""
    counted = mine(hf, me, policy)
    if counted and not hf.needs_retroactive_approval:
        return f"you already approved {hf.key} at {counted[-1].sha[:10]}"
    return None


def reject(hf: Hotfix, me: Actor, policy: appr.Policy) -> list[str]:
    if appr.is_author(appr.author_of(hf), me.name, me.os_account, policy):
        return [f"you authored {hf.key}; edit it, or abandon it, instead of rejecting"]
    if hf.state not in (HotfixState.IN_REVIEW, HotfixState.APPROVED):
        return [f"{hf.key} is {hf.state}; only a hotfix in review can be rejected"]
    return []


def edit(key: str, state: HotfixState) -> list[str]:
    """Documentation, checklist and commits change only while the hotfix is open."""
    if state not in EDITABLE_STATES:
        return [f"{key} is {state}; its content can no longer change"]
    return []


def pick(hf: Hotfix, worktree_missing: bool) -> list[str]:
    reasons = edit(hf.key, hf.state)
    if not reasons and worktree_missing:
        reasons.append(f"the worktree is missing (hotfix worktree {hf.key})")
    return reasons


# ---- runs ---------------------------------------------------------------------------------

def deploy(ctx: Context, store: Store, hf: Hotfix, env: EnvironmentConfig,
           break_glass: bool = False, full_audit: bool = False) -> list[str]:
    """Why this hotfix may not be deployed to `env` now: the record must be what the
    audit chain says (services.integrity; `full_audit`, for the deploy itself,
    recomputes the whole chain), a lock, its state, its approvals, and the release path
    (what `env` requires first). Break-glass goes past the audit check, the approvals and
    the release path, never past a lock."""
    # (the chain's and the signatures' checks load with the rules that read them)
    from . import integrity, signatures

    reasons = [] if break_glass else integrity.deploy_refusals(ctx, store, hf, env.name,
                                                               full=full_audit)
    reasons += locked(store, env.name)
    allowed = BREAK_GLASS_FROM if break_glass else GATED_FROM
    if hf.state not in allowed:
        return reasons + [_not_deployable(hf, break_glass)]
    if break_glass:
        return reasons
    if env.requires_approval:
        policy = ctx.fresh_config().approvals.signatures
        approvals = hf.approvals
        # each signature verified again, at the commit deployed; one fetched from another
        # site always (hotfix sync)
        if policy == "required" or signatures.fetched(hf):
            approvals = signatures.with_checks(ctx, hf).approvals
        valid = appr.valid_approvers(approvals)
        required = ctx.config.approvals.required
        if len(valid) < required:
            unsigned = appr.signature_refusals(approvals, policy)
            stale = [a for a in hf.approvals if a.stale and a.decision == "approved"]
            if unsigned:
                reasons += unsigned + [f"{hf.key} has {len(valid)} of {required} approvals "
                                       "that count"]
            else:
                reasons.append(f"approval stale: {stale[-1].stale_reason}" if stale else
                               f"{hf.key} has {len(valid)} of {required} approvals")
    return reasons + promotion(ctx, store, hf, env)


def promotion(ctx: Context, store: Store, hf: Hotfix, env: EnvironmentConfig) -> list[str]:
    """What the release path still needs before `env` may take this hotfix's head: each
    environment it requires ran the same content successfully and verified it, at least
    `min_soak_s` ago (break-glass bypasses this, flagged)."""
    if not env.requires:
        return []
    attempts = {r["env"]: Attempt(r["key"], r["status"], r["sha"]) for r in store.all(
        "SELECT d.env, d.key, d.status, d.sha FROM deploys d JOIN hotfixes h ON "
        "h.id = d.hotfix_id WHERE h.key = ? AND d.kind = 'deploy' AND d.id IN (SELECT "
        "max(id) FROM deploys WHERE hotfix_id = h.id AND kind = 'deploy' GROUP BY env)",
        (hf.key,))}
    return promotion_blockers(hf.key, env.rule, hf.head_sha,
                              {v.env: v for v in hf.environments}, attempts, ctx.clock())


def _not_deployable(hf: Hotfix, break_glass: bool) -> str:
    stale = [a for a in hf.approvals if a.stale and a.decision == "approved"
             and not a.stale_reason.startswith("superseded")]
    if hf.state is HotfixState.IN_REVIEW and stale:
        return (f"approval stale: {stale[-1].stale_reason} (approved by "
                f"{stale[-1].approver}); it needs approving again")
    if hf.state in (HotfixState.DRAFT, HotfixState.IN_REVIEW) and not break_glass:
        return f"{hf.key} is not approved ({hf.state})"
    return f"{hf.key} is {hf.state}; it cannot be deployed"


def break_glass(ctx: Context, store: Store, hf: Hotfix, env: EnvironmentConfig) -> list[str]:
    """A deploy without approval: allowed by config, and from any open state."""
    if not ctx.config.approvals.break_glass:
        return [BREAK_GLASS_DISABLED]
    return deploy(ctx, store, hf, env, break_glass=True)


def verify(hf: Hotfix, env_name: str, env_row) -> list[str]:
    """Verification follows a deploy of exactly this head to `env_name`."""
    if hf.state not in (HotfixState.DEPLOYED, HotfixState.VERIFIED):
        return [f"{hf.key} is {hf.state}; deploy it first"]
    if env_row is None or env_row["sha"] != hf.head_sha:
        runs = (env_row["version"] if env_row else None) or "nothing recorded"
        return [f"{env_name} is not running {hf.key} ({hf.version}); it runs {runs}"]
    return []


def rollback(ctx: Context, store: Store, env_name: str, to: str | None = None,
             break_glass: bool = False) -> list[str]:
    """Nothing may run on the environment, and there must be something to go back to: a
    release it ran successfully (services/releases.py), or, break-glass where the config
    allows it, a release it never ran."""
    reasons = env_busy(store, env_name)
    if reasons:
        return reasons
    current = records.environment_row(store, env_name)
    if current is None or not current["sha"]:
        return [f"{env_name}: nothing is recorded as deployed; nothing to roll back"]
    if break_glass and not ctx.config.approvals.break_glass:
        return [BREAK_GLASS_DISABLED]
    if to is None:
        if break_glass:
            return ["--break-glass needs --to VERSION: the last known-good release needs "
                    "no break-glass"]
        if releases.choose_rollback(store, env_name) is None:
            return [f"{env_name}: no earlier known-good release to roll back to "
                    "(give --to VERSION)"]
        return []
    version = releases.version_of(to, ctx.config.hotfix.tag_format)
    listed = releases.target(store, env_name, version) is not None
    if listed and break_glass:
        return [f"{env_name} ran {version} before: roll back to it without --break-glass"]
    if not listed and not break_glass:
        return [releases.not_a_target(store, env_name, version)]
    return []


def orphan_alive(store: Store, row) -> bool:
    """An interrupted run whose command (or what it started) is still alive."""
    return row["status"] == "interrupted" and any(
        r["id"] == row["id"] for r in orphaned_runs(store, row["env"]))


def cancel(store: Store, row) -> list[str]:
    """A running run can be cancelled; so can an interrupted one whose command is still
    alive (its runner died, the command did not); and a run whose stop left survivors
    is stopped again."""
    if row["status"] == "running" or orphan_alive(store, row) or survivors_of(row):
        return []
    if row["status"] == "interrupted":
        return [f"{row['key']} is interrupted and nothing of it is left running; "
                "nothing to cancel"]
    return [f"{row['key']} is {row['status']}; nothing to cancel"]


def clear_survivors(row) -> list[str]:
    """Only what a run's stop left behind can be cleared."""
    if not survivors_of(row):
        return [f"{row['key']} left no process behind; nothing to clear"]
    return []


def unlock(store: Store, env_name: str, me: Actor | None = None,
           policy: appr.Policy = appr.STRICT) -> list[str]:
    """A locked environment is unlocked with a reason; the lock a break-glass rollback
    left is lifted only by someone else (its review after the fact)."""
    row = records.environment_row(store, env_name)
    if row is None or not row["locked"]:
        return [f"{env_name} is not locked"]
    glass = releases.break_glass_lock(store, env_name, row["lock_reason"] or "")
    if glass is not None and me is not None and appr.person(
            glass[1], glass[2], policy) == appr.person(me.name, me.os_account, policy):
        return [f"{env_name} was rolled back break-glass by you ({glass[0]}); someone else "
                "must review it and unlock it"]
    return []


# ---- finish -------------------------------------------------------------------------------

def finish(ctx: Context, store: Store, row, *, skip: str = "",
           resuming: bool = False) -> list[str]:
    """Finish tags what the gate environment runs (production, or the last one in
    promotion order): after it was verified there (or with a reason to skip that),
    never before an owed approval after the fact. A finish in progress carries on."""
    key, state = row["key"], HotfixState(row["state"])
    if row["needs_retroactive_approval"]:
        return [f"{key} was deployed break-glass and still needs its approval after the fact "
                f"(hotfix approve {key})"]
    if state not in (HotfixState.DEPLOYED, HotfixState.VERIFIED):
        return [f"{key} is {state}; finish follows a verified deploy"]
    gate_env = ctx.config.gate_env
    everywhere = verifications.of_hotfix(store, row["id"])
    skipped = bool(skip) or (resuming and bool(row["skip_verify_reason"]))
    if resuming:
        return [] if state is HotfixState.VERIFIED or skipped else \
            [_not_verified(key, gate_env, everywhere)]
    return _finish_gate(key, state, gate_env, everywhere, skipped)


def _finish_gate(key: str, state: HotfixState, gate_env: str | None, everywhere,
                 skipped: bool) -> list[str]:
    """The gate environment runs the hotfix, and verified it (or a reason skips that)."""
    gate = everywhere.get(gate_env) if gate_env else None
    if gate_env is not None and (gate is None or gate.rolled_back_by):
        how = (f"was rolled back on {gate_env} ({gate.rolled_back_by})" if gate is not None
               else f"was never deployed to {gate_env}")
        return [f"{key} {how}; a hotfix is tagged and finished from what {gate_env} runs"]
    verified = state is HotfixState.VERIFIED and (
        gate is None or gate.state is VerificationState.PASSED)
    if not verified and not skipped:
        return [_not_verified(key, gate_env, everywhere)]
    return []


def _not_verified(key: str, gate_env: str | None, everywhere) -> str:
    elsewhere = [e for e, v in everywhere.items() if e != gate_env
                 and v.state is VerificationState.PASSED and not v.rolled_back_by]
    where = f" on {gate_env}" if gate_env else ""
    also = f" (verified on {', '.join(elsewhere)} only)" if elsewhere else ""
    env = f" --env {gate_env}" if gate_env else ""
    return (f"{key} is deployed but not verified{where}{also}; run 'hotfix verify {key}{env}', "
            "or give --skip-verify REASON")


# The actions whose refusals the faces show, by the console's action name.
ACTIONS = ("submit", "approve", "reject", "save", "pick", "deploy", "break_glass", "verify",
           "rollback", "finish", "cancel_run", "unlock", "mitigate")
