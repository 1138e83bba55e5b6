"""Deploying a hotfix: what it would run (the preview), and starting it."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import EnvironmentConfig
from ..core.errors import HotfixError, PolicyRefusal, ValidationError
from ..core.models import Deploy, Hotfix, HotfixState
from ..core.workflow import clean_text
from ..store import audit, records
from ..store.db import Store
from . import refusals
from .context import Context
from .hotfixes import set_state, sync
from .promotion import release_path
from .reaping import reap_in
from .runstart import Plan, Release, cleanup_run_worktrees, launch_run, make_plan, new_run
from .verify import ensure_verify_items


def deploy_blockers(ctx: Context, store: Store, hf: Hotfix, env: EnvironmentConfig,
                    break_glass: bool, full_audit: bool = False) -> list[str]:
    """Why this hotfix may not be deployed to `env` now (empty: it may)."""
    if break_glass:
        return refusals.break_glass(ctx, store, hf, env)
    return refusals.deploy(ctx, store, hf, env, full_audit=full_audit)


def _release(store: Store, hf: Hotfix, env_name: str) -> Release:
    current = records.environment_row(store, env_name)
    return Release(hf.head_sha, hf.version, hf.branch, hf.key, hf.incident,
                   (current["sha"] if current else "") or "",
                   (current["version"] if current else "") or "")


def deploy(ctx: Context, key: str, env_name: str | None = None,
           break_glass: str | None = None, expected_head: str | None = None) -> Deploy:
    """Start a deploy. `expected_head` (from a confirmation) refuses if the hotfix moved
    since the user looked."""
    env = ctx.config.env(env_name or ctx.config.hotfix.production_env)
    reason = clean_text(break_glass, "break-glass reason") if break_glass is not None else ""
    if break_glass is not None and not reason:
        raise ValidationError("--break-glass needs a reason")
    with ctx.open(create=False) as store:
        reap_in(ctx, store)  # a dead runner's hotfix is no longer deploying
        sync(ctx, key, store)
        hf = records.get_hotfix(store, key, policy=ctx.approval_policy)
        blockers = deploy_blockers(ctx, store, hf, env, break_glass is not None,
                                   full_audit=True)
        if expected_head and hf.head_sha != expected_head:
            blockers.append(f"{hf.key} changed since you looked (head {hf.head_sha[:12]}, you "
                            f"saw {expected_head[:12]}); review it again")
        blockers += refusals.env_busy(store, env.name)
        if blockers:
            raise PolicyRefusal(f"deploy {hf.key} to {env.name}", blockers)
        release = _release(store, hf, env.name)
    plan = make_plan(ctx, env, "deploy", release)
    run = _start(ctx, key, hf, plan, reason)
    return launch_run(ctx, run, plan.sha)


def _start(ctx: Context, key: str, hf: Hotfix, plan: Plan, reason: str):
    """Record the deploy (the run, the hotfix `deploying`, break-glass flags and the
    promotion rules it bypasses) in one transaction, re-checking what may have changed
    since the plan was made."""
    env = plan.env
    now = ctx.now()
    with ctx.writing() as store:
        cleanup_run_worktrees(ctx, store)
        with store.write():
            row = records.hotfix_row(store, key)
            if (row["head_sha"] != hf.head_sha or row["state"] != str(hf.state)
                    or records.approvals_for(store, row, ctx.approval_policy)
                    != hf.approvals):
                raise HotfixError(f"{hf.key} changed while starting the deploy; try again")
            # the release path as it is now: a required environment may have been
            # rolled back since the check above
            path = refusals.promotion(ctx, store, records.get_hotfix(store, key), env)
            lock = refusals.locked(store, env.name) + ([] if reason else path)
            if lock:
                raise PolicyRefusal(f"deploy {hf.key} to {env.name}", lock)
            bypassed = path if reason else []
            run = new_run(ctx, store, plan, "deploy", now, row["id"],
                          break_glass=bool(reason), break_glass_reason=reason,
                          bypassed=bypassed)
            audit.append(store, ctx.actor, now, "deploy", run["key"],
                         "deploy.break_glass" if reason else "deploy.started",
                         after={"env": env.name, "sha": plan.sha, "version": plan.version,
                                "argv": plan.argv, "break_glass_reason": reason or None,
                                "bypassed": bypassed or None},
                         incident=row["incident_key"], hotfix=row["key"])
            if reason:
                store.execute("UPDATE hotfixes SET break_glass = 1, break_glass_reason = ?, "
                              "needs_retroactive_approval = 1 WHERE id = ?",
                              (reason, row["id"]))
            set_state(ctx, store, row, HotfixState.DEPLOYING, now, "hotfix.deploying",
                      deploy=run["key"], env=env.name)
            ensure_verify_items(store, row["id"], env)
    return run


@dataclass(frozen=True)
class DeployPreview:
    """What a deploy would do, shown before anyone confirms it."""

    env: str
    current_version: str
    target_version: str
    sha: str
    argv: tuple[str, ...]
    blockers: tuple[str, ...]
    locked: str = ""
    summary: str = ""  # where the hotfix stands on this environment (release path)
    next: bool = False  # the next environment of the release path
    bypassed: tuple[str, ...] = ()  # what break-glass would go past here


def deploy_preview(ctx: Context, key: str, env_name: str, break_glass: bool = False
                   ) -> DeployPreview:
    """What deploying `key` to `env_name` would run, and why it may not (for confirmations)."""
    return next(p for p in deploy_previews(ctx, key, break_glass) if p.env == env_name)


def deploy_previews(ctx: Context, key: str, break_glass: bool = False
                    ) -> list[DeployPreview]:
    """Every environment in promotion order: what a deploy there would run, why it may
    not, where the hotfix stands there, and which one is next."""
    out = []
    with ctx.open(create=False) as store:
        hf = records.get_hotfix(store, key, policy=ctx.approval_policy)
        now = ctx.clock()
        for step in release_path(ctx, store, hf, break_glass):
            env = ctx.config.env(step.env)
            release = _release(store, hf, env.name)
            lock = refusals.locked(store, env.name)
            bypassed = refusals.promotion(ctx, store, hf, env) if break_glass else []
            blockers = list(step.blockers)
            try:
                argv = tuple(make_plan(ctx, env, "deploy", release).argv)
            except HotfixError as exc:
                argv = ()
                blockers.append(str(exc))
            out.append(DeployPreview(env.name, release.previous_version, hf.version,
                                     hf.head_sha, argv, tuple(blockers),
                                     lock[0] if lock else "", step.summary(now), step.next,
                                     tuple(bypassed)))
    return out
