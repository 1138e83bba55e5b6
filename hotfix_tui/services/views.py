"""Read models for the console and `--json`: whole screens' worth of data in one call."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .. import gitops
from ..core.models import AuditEvent, Deploy, EnvironmentStatus, Hotfix, HotfixState, Incident
from ..core.scope import ScopeReport
from ..store import audit, records
from ..store import runs as run_rows
from .context import Context
from .deploys import status as env_status
from .review import full_checklist
from .runs import effective_status


@dataclass(frozen=True)
class IncidentRow:
    incident: Incident
    hotfixes: tuple[Hotfix, ...]


@dataclass(frozen=True)
class Dashboard:
    incidents: tuple[IncidentRow, ...]
    environments: tuple[EnvironmentStatus, ...]
    data_version: int = 0


def dashboard(ctx: Context, include_resolved: bool = False) -> Dashboard:
    envs = tuple(env_status(ctx))
    with ctx.reading() as store:
        # a dashboard, not an archive: the worst 100 open incidents and their 10 newest
        # hotfixes keep the first frame fast on a year of history (the rest: history)
        incidents = records.list_incidents(store, include_resolved, limit=100)
        rows = []
        for inc in incidents:
            hfs = records.list_hotfixes(store, incident=inc.key, limit=10)
            rows.append(IncidentRow(inc, tuple(h for h in hfs
                                               if h.state is not HotfixState.ABANDONED)))
        return Dashboard(tuple(rows), envs, store.data_version())


@dataclass(frozen=True)
class HotfixDetail:
    hotfix: Hotfix
    scope: ScopeReport | None
    events: tuple[AuditEvent, ...]
    deploys: tuple[Deploy, ...]
    verify_items: dict[str, tuple] = field(default_factory=dict)
    worktree_missing: bool = False
    error: str = ""
    binding: object = None  # core.approval.Binding of exactly what is shown


def hotfix_detail(ctx: Context, key: str) -> HotfixDetail:
    from ..core.errors import HotfixError
    from .hotfixes import sync

    error = ""
    with ctx.open(create=False) as store:
        try:
            sync(ctx, key, store)
        except HotfixError as exc:
            error = str(exc)
        row = records.hotfix_row(store, key)
        hf = records.get_hotfix(store, key)
        report = None
        bound = None
        if not error:
            try:
                items, report = full_checklist(ctx, store, row)
                hf = replace(hf, checklist=tuple(items))
                from .hotfixes import binding

                bound = binding(ctx, store, row, row["head_sha"])
            except HotfixError as exc:
                error = str(exc)
        events = tuple(audit.events(store, hotfix=hf.key))
        deploys = tuple(run_rows.deploy_from_row(r, effective_status(r))
                        for r in run_rows.list_runs(store, hotfix_id=row["id"], limit=100))
        verify = {}
        for env in ctx.config.environments:
            if env.verify_items:
                verify[env.name] = tuple(records.checklist_for(store, row["id"], "verify",
                                                               env.name))
    from pathlib import Path

    missing = not (Path(hf.worktree) / ".git").exists() and hf.state not in (
        HotfixState.ABANDONED, HotfixState.FINISHED)
    return HotfixDetail(hf, report, events, deploys, verify, missing, error, bound)


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


def run_lines(ctx: Context, key: str, first_seq: int, count: int):
    with ctx.reading() as store:
        row = run_rows.run_row(store, key)
        return run_rows.line_range(store, row["id"], first_seq, count)


def action_reasons(ctx: Context, detail: HotfixDetail) -> dict[str, str | None]:
    """Why each hotfix action is unavailable to the acting user right now (None: it is
    available). The console dims the action and shows this reason."""
    from ..core import approval as appr
    from ..core.workflow import EDITABLE_STATES
    from .deploys import deploy_blockers

    hf = detail.hotfix
    me = ctx.actor.name
    out: dict[str, str | None] = {}
    checklist = list(hf.checklist)
    commits = detail.scope.commits if detail.scope else 0
    blockers = appr.submit_blockers(hf, checklist, commits) if detail.scope else [
        detail.error or "scope unavailable"]
    out["submit"] = "; ".join(blockers) if blockers else None
    refusal = appr.approval_refusal(hf, me)
    mine = [a for a in hf.approvals if a.approver == me and a.decision == "approved"
            and not a.stale]
    if refusal:
        out["approve"] = refusal
    elif mine and not hf.needs_retroactive_approval:
        out["approve"] = f"you already approved {hf.key} at {mine[-1].sha[:10]}"
    else:
        out["approve"] = None
    if hf.author == me:
        out["reject"] = f"you authored {hf.key}; edit or abandon it instead"
    elif hf.state not in (HotfixState.IN_REVIEW, HotfixState.APPROVED):
        out["reject"] = f"{hf.key} is {hf.state}; only a hotfix in review can be rejected"
    else:
        out["reject"] = None
    editable = hf.state in EDITABLE_STATES
    out["save"] = None if editable else f"{hf.key} is {hf.state}; it can no longer change"
    out["tick"] = out["save"]
    if not editable:
        out["pick"] = out["save"]
    elif detail.worktree_missing:
        out["pick"] = f"the worktree is missing (hotfix worktree {hf.key})"
    else:
        out["pick"] = None
    prod = ctx.config.hotfix.production_env
    if prod in ctx.config.env_names:
        env = ctx.config.env(prod)
        with ctx.reading() as store:
            reasons = deploy_blockers(ctx, store, hf, env, False)
            bg = deploy_blockers(ctx, store, hf, env, True)
        out["deploy"] = "; ".join(reasons) if reasons else None
        out["break_glass"] = ("break-glass is disabled by [approvals] break_glass = false"
                              if not ctx.config.approvals.break_glass else
                              ("; ".join(bg) if bg else None))
    else:
        out["deploy"] = out["break_glass"] = f"no environment {prod!r} configured"
    if hf.state not in (HotfixState.DEPLOYED, HotfixState.VERIFIED):
        out["verify"] = f"{hf.key} is {hf.state}; deploy it first"
    else:
        out["verify"] = None
    if hf.needs_retroactive_approval:
        out["finish"] = "a break-glass deploy still needs its approval after the fact"
    elif hf.state is HotfixState.DEPLOYED:
        out["finish"] = (f"{hf.key} is deployed but not verified (verify it, or "
                         f"hotfix finish {hf.key} --skip-verify REASON)")
    elif hf.state is not HotfixState.VERIFIED:
        out["finish"] = f"{hf.key} is {hf.state}; finish follows a verified deploy"
    else:
        out["finish"] = None
    return out


def search_log(ctx: Context, key: str, term: str, limit: int = 10_000) -> list[int]:
    """Sequence numbers of the lines containing `term` (case-insensitive)."""
    if not term:
        return []
    with ctx.reading() as store:
        row = run_rows.run_row(store, key)
        rows = store.all("SELECT seq FROM deploy_lines WHERE deploy_id = ? AND "
                         "instr(lower(text), lower(?)) > 0 ORDER BY seq LIMIT ?",
                         (row["id"], term, limit))
    return [r[0] for r in rows]
