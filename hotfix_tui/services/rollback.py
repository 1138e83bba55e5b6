"""Rolling an environment back to its last known-good release, then locking it."""

from __future__ import annotations

from dataclasses import dataclass

from .. import gitops
from ..core.errors import NotFound, PolicyRefusal, ValidationError
from ..core.models import Deploy
from ..core.refs import check_ref
from ..core.workflow import clean_text
from ..store import audit
from . import refusals, releases
from .context import Context
from .environments import lock_in
from .hotfixes import git_cwd
from .reaping import reap_in
from .releases import RollbackChoice, choose_rollback
from .runstart import Plan, Release, cleanup_run_worktrees, launch_run, make_plan, new_run


@dataclass(frozen=True)
class RollbackPreview:
    """What a rollback would do, shown before anyone confirms it."""

    env: str
    current_version: str
    current_sha: str
    target_version: str
    target_sha: str
    argv: tuple[str, ...]
    hotfix: str | None
    incident: str | None
    hotfix_id: int | None
    plan: Plan
    break_glass: bool = False

    def to_json(self) -> dict:
        return {"env": self.env, "current_version": self.current_version,
                "current_sha": self.current_sha, "target_version": self.target_version,
                "target_sha": self.target_sha, "argv": list(self.argv), "hotfix": self.hotfix,
                "break_glass": self.break_glass}


def rollback_preview(ctx: Context, env_name: str | None, to: str | None = None,
                     break_glass: bool = False) -> RollbackPreview:
    """What a rollback would do now: from which release to which, running what.
    Raises the refusal a rollback would raise. A target the environment never ran
    (services/releases.py) is reached only `break_glass`, by its release tag."""
    env = ctx.config.env(env_name or ctx.config.hotfix.production_env)
    version = releases.version_of(to, ctx.config.hotfix.tag_format) if to else None
    with ctx.open(create=False) as store:
        reap_in(ctx, store)
        blockers = refusals.rollback(ctx, store, env.name, to, break_glass)
        if blockers:
            raise PolicyRefusal(f"rollback {env.name}", blockers)
        unlisted = _tagged(ctx, version) if break_glass and version else None
        choice = choose_rollback(store, env.name, version, unlisted)
    if choice is None:  # refused above; the record changed meanwhile
        raise NotFound(f"{env.name}: no release {to} to roll back to")
    which = "rollback" if env.rollback else "deploy"
    plan = make_plan(ctx, env, which, _release(choice))
    return RollbackPreview(env.name, choice.previous_version, choice.previous_sha,
                           choice.target_version, choice.target_sha, tuple(plan.argv),
                           choice.hotfix, choice.incident, choice.hotfix_id, plan,
                           break_glass=unlisted is not None)


def _release(choice: RollbackChoice) -> Release:
    return Release(choice.target_sha, choice.target_version, choice.target_version,
                   choice.hotfix or "", choice.incident or "", choice.previous_sha,
                   choice.previous_version)


def _tagged(ctx: Context, version: str) -> tuple[str, str]:
    """(version, commit) of release `version` by its tag, for a break-glass rollback."""
    tag = ctx.config.hotfix.tag_format.format(version=version)
    check_ref(tag, "release tag")
    if not gitops.ref_exists(git_cwd(ctx), f"refs/tags/{tag}"):
        raise NotFound(f"no release tag {tag} in the repository")
    return version, gitops.resolve_commit(git_cwd(ctx), f"refs/tags/{tag}")


def rollback(ctx: Context, env_name: str | None, reason: str, to: str | None = None,
             expected: tuple[str, str] | None = None,
             break_glass: str | None = None) -> Deploy:
    """Roll back. `expected` = (current sha, target sha) from the confirmation the user
    read: refused if either changed meanwhile. `break_glass` (a reason) reaches a release
    the environment never ran: flagged wherever the run shows, and the lock it leaves is
    lifted only by someone else."""
    env = ctx.config.env(env_name or ctx.config.hotfix.production_env)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ValidationError("a rollback needs a --reason")
    glass = clean_text(break_glass, "break-glass reason") if break_glass is not None else ""
    if break_glass is not None and not glass:
        raise ValidationError("--break-glass needs a reason")
    pv = rollback_preview(ctx, env.name, to, break_glass=bool(glass))
    if expected is not None and expected != (pv.current_sha, pv.target_sha):
        raise PolicyRefusal(f"rollback {env.name}", [
            f"{env.name} changed since you looked (it now runs {pv.current_version} and would "
            f"go back to {pv.target_version}); review the rollback again"])
    now = ctx.now()
    with ctx.writing() as store:
        cleanup_run_worktrees(ctx, store)
        with store.write():
            run = new_run(ctx, store, pv.plan, "rollback", now, pv.hotfix_id, reason=reason,
                          break_glass=bool(glass), break_glass_reason=glass)
            after = {"env": env.name, "version": pv.target_version, "sha": pv.target_sha,
                     "argv": pv.plan.argv, "reason": reason}
            if glass:
                after.update(break_glass=True, break_glass_reason=glass,
                             account=ctx.actor.os_account)
            audit.append(store, ctx.actor, now, "deploy", run["key"], "rollback.started",
                         before={"version": pv.current_version, "sha": pv.current_sha},
                         after=after, incident=pv.incident, hotfix=pv.hotfix)
            # locked now, whatever the outcome; the hotfix becomes rolled_back only when
            # the rollback succeeds (deploy.lifecycle)
            lock_in(ctx, store, env.name, f"rolled back ({run['key']}): {reason}", now,
                    pv.incident, pv.hotfix)
    return launch_run(ctx, run, pv.target_sha)
