"""Environments: what runs where, locks, and adopting what already runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ..core import sitesync
from ..core.errors import HotfixError, PolicyRefusal, ValidationError
from ..core.models import EnvironmentStatus, EnvVerification
from ..core.refs import version_from_tag
from ..core.workflow import clean_text
from ..deploy.lifecycle import effective_status
from ..store import audit, records, sitechain, verifications
from ..store import runs as run_rows
from ..store.db import Store
from . import refusals
from .context import Context
from .reaping import reap_in
from .usecase import change


def lock_in(ctx: Context, store: Store, env: str, reason: str, now: str,
            incident: str | None = None, hotfix: str | None = None) -> None:
    """Lock `env` with `reason` (inside store.write())."""
    store.execute(
        "INSERT INTO environments (name, locked, locked_by, locked_at, lock_reason) "
        "VALUES (?, 1, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET locked = 1, "
        "locked_by = excluded.locked_by, locked_at = excluded.locked_at, "
        "lock_reason = excluded.lock_reason", (env, ctx.actor.name, now, reason))
    audit.append(store, ctx.actor, now, "environment", env, "environment.locked",
                 after={"reason": reason}, incident=incident, hotfix=hotfix)


def lock(ctx: Context, env_name: str, reason: str) -> EnvironmentStatus:
    env = ctx.config.env(env_name)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ValidationError("a lock needs a --reason")
    with change(ctx) as c:
        lock_in(ctx, c.store, env.name, reason, c.now)
    return status_of(ctx, env.name)


def unlock(ctx: Context, env_name: str, reason: str) -> EnvironmentStatus:
    env = ctx.config.env(env_name)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ValidationError("unlocking needs a --reason (what addressed the cause?)")
    with change(ctx, entity="environment") as c:
        blockers = refusals.unlock(c.store, env.name, ctx.actor, ctx.approval_policy)
        if blockers:
            raise PolicyRefusal(f"unlock {env.name}", blockers)
        row = records.environment_row(c.store, env.name)
        c.store.execute("UPDATE environments SET locked = 0, locked_by = NULL, "
                        "locked_at = NULL, lock_reason = NULL WHERE name = ?", (env.name,))
        c.audit("environment.unlocked", key=env.name,
                before={"locked_by": row["locked_by"], "reason": row["lock_reason"]},
                after={"reason": reason})
    return status_of(ctx, env.name)


def adopt(ctx: Context, env_name: str, ref: str, reason: str) -> EnvironmentStatus:
    """Record what an environment runs today (before its first deploy through hotfix, or
    after a release outside it), saying how that is known: the release becomes one the
    environment may be rolled back to (services/releases.py)."""
    from .. import gitops  # (the only use of git here: `status` and the locks run none)
    from .hotfixes import git_cwd

    env = ctx.config.env(env_name)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ValidationError("adopting needs a --reason (how do you know it runs this "
                              "release?)")
    sha = gitops.resolve_commit(git_cwd(ctx), ref, "release ref")
    fmt = ctx.config.hotfix.tag_format
    v = version_from_tag(ref, fmt)
    if v is None:
        top = ctx.require_repo().toplevel
        tags = [t for t in gitops.tags_at(top, sha) if version_from_tag(t, fmt)]
        v = version_from_tag(tags[0], fmt) if tags else None
    if v is None:
        raise HotfixError(f"{ref} is not a release tag (like {fmt.format(version='1.2.3')})")
    version = ".".join(map(str, v))
    with change(ctx, entity="environment") as c:
        c.store.execute(
            "INSERT INTO environments (name, version, sha, deployed_by, deployed_by_verified, "
            "deployed_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
            "version = excluded.version, sha = excluded.sha, deployed_by = excluded.deployed_by,"
            " deployed_by_verified = excluded.deployed_by_verified, "
            "deployed_at = excluded.deployed_at, deploy_id = NULL",
            (env.name, version, sha, ctx.actor.name, int(ctx.actor.verified), c.now))
        c.audit("environment.adopted", key=env.name,
                after={"version": version, "sha": sha, "reason": reason})
    return status_of(ctx, env.name)


def status_of(ctx: Context, env_name: str) -> EnvironmentStatus:
    return next(s for s in status(ctx) if s.env == env_name)


def _running(store: Store, name: str, now: datetime) -> dict | None:
    running = run_rows.list_runs(store, env=name, running_only=True)
    if not running:
        return None
    rr = running[0]
    started = datetime.fromisoformat(rr["started_at"].replace("Z", "+00:00"))
    return {"key": rr["key"], "kind": rr["kind"], "hotfix": rr["hotfix_key"],
            "version": rr["version"], "started_by": rr["started_by"],
            "started_at": rr["started_at"], "status": str(effective_status(rr)),
            "elapsed_s": int((now - started).total_seconds()),
            "expected_s": run_rows.typical_duration(store, name, rr["kind"], rr["id"])}


def _env_status(ctx: Context, name: str, r, running: dict | None,
                release: tuple[str, EnvVerification] | None) -> EnvironmentStatus:
    cfg = ctx.config.env(name) if name in ctx.config.env_names else None
    key, v = release if release else (None, None)
    rules = {"requires": cfg.requires if cfg else (),
             "min_soak_s": cfg.min_soak_s if cfg else 0.0,
             "hotfix": key, "verification": v.state if v else None,
             "verified_at": v.verified_at if v else None,
             "verified_by": v.verified_by if v else None}
    if r is None:
        return EnvironmentStatus(env=name, version=None, sha=None, deployed_by=None,
                                 deployed_at=None, locked=False, locked_by=None,
                                 lock_reason=None, locked_at=None, running=running, **rules)
    return EnvironmentStatus(env=name, version=r["version"], sha=r["sha"],
                             deployed_by=r["deployed_by"], deployed_at=r["deployed_at"],
                             locked=bool(r["locked"]), locked_by=r["locked_by"],
                             lock_reason=r["lock_reason"], locked_at=r["locked_at"],
                             running=running, **rules)


def status_in(ctx: Context, store: Store) -> list[EnvironmentStatus]:
    """Every configured environment in promotion order, then any other recorded one;
    with the hotfix whose release each runs, and its verification there."""
    names = list(ctx.config.promotion_order)
    rows = {r["name"]: r for r in store.all("SELECT * FROM environments")}
    names += [n for n in rows if n not in names]
    releases = verifications.of_releases(store)
    now = ctx.clock()  # the context's clock, as every other age the faces show
    apart = sitesync.conflicts(sitechain.claims(store, sitesync.CLAIMS))
    return [replace(_env_status(ctx, name, rows.get(name), _running(store, name, now),
                                releases.get(name)), conflicts=tuple(apart.get(name, ())))
            for name in names]


def status(ctx: Context, reap: bool = True) -> list[EnvironmentStatus]:
    with ctx.open(create=False) as store:
        if reap:
            reap_in(ctx, store)
        return status_in(ctx, store)
