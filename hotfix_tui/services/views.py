"""Read models for the console and `--json`: whole screens' worth of data in one call."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import gitops
from ..core.errors import HotfixError
from ..core.models import AuditEvent, Deploy, EnvironmentStatus, Hotfix, HotfixState, Incident
from ..core.scope import ScopeReport
from ..store import audit, records
from ..store import runs as run_rows
from ..store.db import Store
from . import refusals, signatures
from .context import Context
from .environments import status_in
from .hotfixes import binding, sync
from .promotion import Step, next_step, release_path, rollback_target, verify_target
from .review import full_checklist
from .runs import get_run, reap_in, runs_of, typical_duration


@dataclass(frozen=True)
class IncidentRow:
    """An incident on the dashboard, with its hotfixes."""

    incident: Incident
    hotfixes: tuple[Hotfix, ...]


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows, read at one moment."""

    incidents: tuple[IncidentRow, ...]
    environments: tuple[EnvironmentStatus, ...]
    data_version: int = 0
    # per environment: why it cannot be rolled back or unlocked now (None: it can)
    rollback: dict[str, str | None] = field(default_factory=dict)
    unlock: dict[str, str | None] = field(default_factory=dict)


def _why(reasons: list[str]) -> str | None:
    return "; ".join(reasons) if reasons else None


def dashboard(ctx: Context, include_resolved: bool = False) -> Dashboard:
    policy = ctx.approval_policy
    with ctx.open(create=False) as store:
        reap_in(ctx, store)
        envs = tuple(status_in(ctx, store))
        rollback = {e.env: _why(refusals.rollback(ctx, store, e.env)) for e in envs}
        unlock = {e.env: _why(refusals.unlock(store, e.env, ctx.actor, policy)) for e in envs}
        # a dashboard, not an archive: the worst 100 open incidents and their 10 newest
        # hotfixes keep the first frame fast on a year of history (the rest: history)
        incidents = records.list_incidents(store, include_resolved, limit=100)
        newest = records.newest_hotfixes(store, [inc.key for inc in incidents], 10, policy)
        rows = [IncidentRow(inc, tuple(h for h in newest[inc.key]
                                       if h.state is not HotfixState.ABANDONED))
                for inc in incidents]
        version = store.data_version()
    required = signatures.policy(ctx) == "required"
    rows = [replace(r, hotfixes=tuple(signatures.counted(ctx, h, required)
                                      for h in r.hotfixes)) for r in rows]
    return Dashboard(tuple(rows), envs, version, rollback, unlock)


@dataclass(frozen=True)
class HotfixDetail:
    """Everything the hotfix screen shows, read at one moment."""

    hotfix: Hotfix
    scope: ScopeReport | None
    events: tuple[AuditEvent, ...]
    deploys: tuple[Deploy, ...]
    verify_items: dict[str, tuple] = field(default_factory=dict)
    worktree_missing: bool = False
    error: str = ""
    binding: object = None  # core.approval.Binding of exactly what is shown
    signing: str = ""  # what would sign the viewer's approval now (signatures.signing_preview)
    path: tuple[Step, ...] = ()  # the release path, in promotion order
    verify_env: str = ""  # where `v` verifies: the environment awaiting verification
    rollback_env: str = ""  # where `R` rolls back: the last one that has the hotfix


def hotfix_detail(ctx: Context, key: str) -> HotfixDetail:
    error = ""
    with ctx.open(create=False) as store:
        try:
            sync(ctx, key, store)
        except HotfixError as exc:
            error = str(exc)
        row = records.hotfix_row(store, key)
        hf = records.get_hotfix(store, key, policy=ctx.approval_policy)
        report = None
        bound = None
        if not error:
            try:
                items, report = full_checklist(ctx, store, row)
                hf = replace(hf, checklist=tuple(items))
                bound = binding(ctx, store, row, row["head_sha"])
            except HotfixError as exc:
                error = str(exc)
        events = tuple(audit.events(store, hotfix=hf.key))
        deploys = tuple(runs_of(store, hotfix_id=row["id"], limit=100))
        verify = {}
        for env in ctx.config.environments:
            if env.verify_items:
                verify[env.name] = tuple(records.checklist_for(store, row["id"], "verify",
                                                               env.name))
        path = tuple(release_path(ctx, store, hf))
    missing = not (Path(hf.worktree) / ".git").exists() and hf.state not in (
        HotfixState.ABANDONED, HotfixState.FINISHED)
    hf = signatures.with_checks(ctx, hf)
    signing = signatures.signing_preview(ctx, hf) if not error and not ctx.readonly else ""
    return HotfixDetail(hf, report, events, deploys, verify, missing, error, bound, signing,
                        path, verify_target(ctx, hf), rollback_target(ctx, hf))


def diff_for(ctx: Context, key: str, path: str | None = None) -> str:
    with ctx.reading() as store:
        row = records.hotfix_row(store, key)
    cwd = ctx.require_repo().toplevel
    head = gitops.branch_tip(cwd, row["branch"]) or row["head_sha"]
    return gitops.diff_text(cwd, row["base_sha"], head, path)


def base_choices(ctx: Context) -> list[tuple[str, str]]:
    """(label, ref) pairs offered as the base of a new hotfix, the default first."""
    cwd = ctx.require_repo().toplevel
    out: list[tuple[str, str]] = []
    with ctx.reading() as store:
        prod = store.one("SELECT version, sha FROM environments WHERE name = ?",
                         (ctx.config.hotfix.production_env,))
    fmt = ctx.config.hotfix.tag_format
    if prod is not None and prod["sha"]:
        tag = fmt.format(version=prod["version"]) if prod["version"] else prod["sha"]
        out.append((f"{tag} (running in {ctx.config.hotfix.production_env})", tag))
    for _, tag, _sha in gitops.version_tags(cwd, fmt)[:8]:
        if all(ref != tag for _, ref in out):
            out.append((tag, tag))
    return out


# ---- what the console may do now, and why not -----------------------------------------

def action_reasons(ctx: Context, detail: HotfixDetail) -> dict[str, str | None]:
    """Why each hotfix action is unavailable to the acting user right now (None: it is
    available), from the same rules the services refuse with."""
    hf = detail.hotfix
    out: dict[str, str | None] = {}
    if detail.scope:
        out["submit"] = _why(refusals.submit(hf, list(hf.checklist), detail.scope.commits))
    else:
        out["submit"] = detail.error or "scope unavailable"
    me, policy = ctx.actor, ctx.approval_policy
    out["approve"] = (_why(refusals.approve(hf, me, policy, ctx.config.approvals.required))
                      or refusals.already_approved(hf, me, policy))
    out["reject"] = _why(refusals.reject(hf, me, policy))
    out["save"] = out["tick"] = _why(refusals.edit(hf.key, hf.state))
    out["pick"] = _why(refusals.pick(hf, detail.worktree_missing))
    with ctx.reading() as store:
        out.update(_environment_reasons(ctx, store, detail))
        out["finish"] = _why(refusals.finish(ctx, store, records.hotfix_row(store, hf.key)))
    return out


def _environment_reasons(ctx: Context, store: Store, detail: HotfixDetail
                         ) -> dict[str, str | None]:
    """deploy and break-glass: available when some environment of the release path takes
    the hotfix now (else the next one's reasons); verify and rollback: on the environment
    they act on (detail.verify_env, detail.rollback_env)."""
    hf = detail.hotfix
    if not ctx.config.environments:
        missing = "no environments configured ([environments.*] in .hotfix.toml)"
        return dict.fromkeys(("deploy", "break_glass", "verify", "rollback"), missing)
    out: dict[str, str | None] = {}
    for action, steps in (("deploy", list(detail.path)),
                          ("break_glass", release_path(ctx, store, hf, break_glass=True))):
        if any(not s.blockers for s in steps):
            out[action] = None
            continue
        first = next_step(steps) or steps[0]
        out[action] = _why(list(first.blockers))
    env = detail.verify_env
    out["verify"] = _why(refusals.verify(hf, env, records.environment_row(store, env)))
    out["rollback"] = _why(refusals.rollback(ctx, store, detail.rollback_env))
    return out


@dataclass(frozen=True)
class RunView:
    """One run as the deploy pane shows it, with why each of its actions is unavailable."""

    run: Deploy
    environment: EnvironmentStatus | None
    reasons: dict[str, str | None] = field(default_factory=dict)
    expected_s: float | None = None  # how long such a run usually takes (None: no history)


def run_view(ctx: Context, key: str) -> RunView:
    """The run, its environment, and its actions' availability (cancel, verify,
    rollback, unlock)."""
    with ctx.open(create=False) as store:
        reap_in(ctx, store)
        row = run_rows.run_row(store, key)
        run = get_run(store, row["id"])
        env = next((e for e in status_in(ctx, store) if e.env == run.env), None)
        reasons = {
            "cancel_run": _why(refusals.cancel(store, row)),
            "verify": _why(_verify_run(store, run)),
            "rollback": _why(refusals.rollback(ctx, store, run.env)),
            "unlock": _why(refusals.unlock(store, run.env, ctx.actor, ctx.approval_policy)),
        }
        expected = typical_duration(store, run.env, run.kind, row["id"])
    return RunView(run, env, reasons, expected)


def _verify_run(store: Store, run: Deploy) -> list[str]:
    """Verify from the deploy pane: the hotfix this deploy shipped, on its environment."""
    if run.hotfix is None:
        return ["this run belongs to no hotfix"]
    if run.kind.value != "deploy" or run.status.value != "succeeded":
        return ["verify follows a successful deploy"]
    hf = records.get_hotfix(store, run.hotfix)
    return refusals.verify(hf, run.env, records.environment_row(store, run.env))
