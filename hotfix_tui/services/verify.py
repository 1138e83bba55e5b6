"""Verifying a deployed hotfix: the manual items of an environment, and its check run."""

from __future__ import annotations

from ..config import EnvironmentConfig
from ..core.errors import PolicyRefusal, ValidationError
from ..core.models import ChecklistItem, Deploy, VerificationState
from ..deploy.verification import maybe_verified, unverified
from ..store import audit, records
from ..store.db import Store
from . import refusals
from .context import Context
from .promotion import verify_target
from .runstart import Release, cleanup_run_worktrees, launch_run, make_plan, new_run
from .usecase import change


def ensure_verify_items(store: Store, hotfix_id: int, env: EnvironmentConfig) -> None:
    for i, text in enumerate(env.verify_items, 1):
        store.execute("INSERT OR IGNORE INTO checklist_items (hotfix_id, kind, env, n, text) "
                      "VALUES (?, 'verify', ?, ?, ?)", (hotfix_id, env.name, i, text))


def target(ctx: Context, key: str, env_name: str | None = None) -> EnvironmentConfig:
    """The environment to verify on: `env_name`, or the one awaiting verification."""
    if env_name:
        return ctx.config.env(env_name)
    with ctx.reading() as store:
        return ctx.config.env(verify_target(ctx, records.get_hotfix(store, key)))


def verify_env(ctx: Context, key: str, env_name: str | None = None) -> str:
    """The name of the environment `hotfix verify` acts on."""
    return target(ctx, key, env_name).name


def verify_items(ctx: Context, key: str, env_name: str | None = None) -> list[ChecklistItem]:
    env = target(ctx, key, env_name)
    with ctx.reading() as store:
        row = records.hotfix_row(store, key)
        return records.checklist_for(store, row["id"], "verify", env.name) or [
            ChecklistItem(n=i, text=t, automatic=False, checked=False)
            for i, t in enumerate(env.verify_items, 1)]


def verify(ctx: Context, key: str, env_name: str | None = None,
           item: int | None = None, uncheck: bool = False) -> Deploy | None:
    """Run the verify command on `env_name` (default: the environment awaiting
    verification) as its own run, or tick a manual verify item there."""
    env = target(ctx, key, env_name)
    with ctx.open(create=False) as store:
        hf = records.get_hotfix(store, key)
        env_row = records.environment_row(store, env.name)
        blockers = refusals.verify(hf, env.name, env_row)
    if blockers:
        raise PolicyRefusal(f"verify {hf.key}", blockers)
    if item is not None:
        _tick(ctx, key, env, item, uncheck)
        return None
    if not env.verify:
        _settle_manual(ctx, key, env)
        return None
    plan = make_plan(ctx, env, "verify", Release(
        hf.head_sha, hf.version, hf.branch, hf.key, hf.incident, env_row["sha"] or "",
        env_row["version"] or ""))
    now = ctx.now()
    with ctx.writing() as store:
        cleanup_run_worktrees(ctx, store)
        with store.write():
            row = records.hotfix_row(store, key)
            run = new_run(ctx, store, plan, "verify", now, row["id"])
            ensure_verify_items(store, row["id"], env)
            audit.append(store, ctx.actor, now, "deploy", run["key"], "verify.started",
                         after={"env": env.name, "sha": plan.sha, "version": plan.version,
                                "argv": plan.argv},
                         incident=row["incident_key"], hotfix=row["key"])
    return launch_run(ctx, run, plan.sha)


def _tick(ctx: Context, key: str, env: EnvironmentConfig, item: int, uncheck: bool) -> None:
    """Tick (or untick) manual verify item `item` of `env`: passed there once all pass;
    unticking one takes a passed verification back to pending."""
    if not 1 <= item <= len(env.verify_items):
        raise ValidationError(f"{env.name} has no verify item {item} "
                              f"({len(env.verify_items)} configured)")
    gate = ctx.config.gate_env or ""
    with change(ctx, hotfix=key) as c:
        ensure_verify_items(c.store, c.row["id"], env)
        c.store.execute(
            "UPDATE checklist_items SET checked = ?, checked_by = ?, checked_by_verified = ?,"
            " checked_at = ? WHERE hotfix_id = ? AND kind = 'verify' AND env = ? AND n = ?",
            (int(not uncheck), None if uncheck else ctx.actor.name, int(ctx.actor.verified),
             None if uncheck else c.now, c.row["id"], env.name, item))
        c.audit("verify.unchecked" if uncheck else "verify.checked", entity="checklist",
                after={"env": env.name, "n": item, "text": env.verify_items[item - 1]})
        if uncheck:
            unverified(c.store, c.row["id"], env.name, VerificationState.PENDING, c.now,
                       ctx.actor, gate)
        else:
            maybe_verified(c.store, c.row["id"], env.name, c.now, ctx.actor,
                           needs_run=bool(env.verify), gate_env=gate)


def _settle_manual(ctx: Context, key: str, env: EnvironmentConfig) -> None:
    """No verify command: passed there once every manual item is ticked."""
    with change(ctx, hotfix=key) as c:
        ensure_verify_items(c.store, c.row["id"], env)
        if not maybe_verified(c.store, c.row["id"], env.name, c.now, ctx.actor,
                              needs_run=False, gate_env=ctx.config.gate_env or ""):
            left = [i.text for i in records.checklist_for(c.store, c.row["id"], "verify",
                                                          env.name) if not i.checked]
            raise PolicyRefusal(f"verify {c.row['key']}", [
                "manual verify items not ticked: " + "; ".join(left)])
