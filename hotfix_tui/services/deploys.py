"""Deploy, verify, rollback, cancel, locks and status: starting runs that outlive us."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .. import gitops
from ..config import EnvironmentConfig
from ..core import approval as appr
from ..core.errors import ConfigError, HotfixError, NotFound, PolicyRefusal, ValidationError
from ..core.models import ChecklistItem, Deploy, EnvironmentStatus, HotfixState, RunStatus
from ..core.workflow import check_hotfix_transition, clean_text
from ..store import audit, records
from ..store import runs as run_rows
from ..store.db import Store
from .context import Context
from .hotfixes import git_cwd, set_state, sync
from .runs import HOST, effective_status, reap_in

GATED_FROM = (HotfixState.APPROVED, HotfixState.DEPLOYED, HotfixState.VERIFIED,
              HotfixState.FAILED)
BREAK_GLASS_FROM = (HotfixState.DRAFT, HotfixState.IN_REVIEW) + GATED_FROM


@dataclass(frozen=True)
class Plan:
    env: EnvironmentConfig
    argv: list[str]
    env_vars: dict[str, str]
    sha: str
    version: str
    previous_sha: str
    previous_version: str


def _env_row(store: Store, name: str):
    return store.one("SELECT * FROM environments WHERE name = ?", (name,))


def _deploy_argv(env: EnvironmentConfig, which: str) -> list[str]:
    if env.driver == "local-symlink" and which in ("deploy", "rollback"):
        return [sys.executable, "-m", "hotfix_tui.deploy.drivers", "local-symlink",
                "--path", os.path.expanduser(env.path), "--version", "{version}",
                "--sha", "{sha}"]
    argv = list(getattr(env, which))
    if not argv:
        raise ConfigError(f"environments.{env.name}.{which} is empty: nothing to run")
    return argv


def _values(sha: str, version: str, ref: str, env: str, hotfix: str, incident: str,
            previous_sha: str, previous_version: str) -> dict[str, str]:
    return {"sha": sha, "short_sha": sha[:12], "version": version, "ref": ref, "env": env,
            "hotfix": hotfix, "incident": incident, "previous_sha": previous_sha,
            "previous_version": previous_version}


def _substitute(argv: list[str], values: dict[str, str]) -> list[str]:
    # Placeholders were checked when the config was read; format_map only fills them.
    return [arg.format_map(values) for arg in argv]


def _check_program(cwd: Path, sha: str, argv: list[str], env_name: str, which: str) -> None:
    """A missing or non-executable program is an error before anything runs."""
    prog = argv[0]
    where = f"environments.{env_name}.{which}"
    if not prog:
        raise ConfigError(f"{where}: the program name is empty")
    if os.path.isabs(prog):
        if not os.path.exists(prog):
            raise ConfigError(f"{where}: program {prog} does not exist")
        if not os.access(prog, os.X_OK) or os.path.isdir(prog):
            raise ConfigError(f"{where}: program {prog} is not executable")
        return
    if "/" in prog:
        rel = os.path.normpath(prog)
        if rel.startswith(".."):
            raise ConfigError(f"{where}: program {prog} points outside the repository")
        res = gitops.run_git(cwd, "ls-tree", sha, "--", rel, check=False)
        if not res.ok or not res.out.strip():
            raise ConfigError(f"{where}: program {prog} does not exist at {sha[:12]}")
        mode = res.out.split()[0]
        if mode not in ("100755", "120000"):
            raise ConfigError(f"{where}: program {prog} is not executable at {sha[:12]} "
                              f"(git mode {mode}; chmod +x and commit it)")
        return
    if shutil.which(prog) is None:
        raise ConfigError(f"{where}: program {prog} not found on PATH")


def _plan(ctx: Context, env: EnvironmentConfig, which: str, sha: str, version: str,
          ref: str, hotfix: str, incident: str, previous_sha: str,
          previous_version: str) -> Plan:
    argv = _deploy_argv(env, which)
    values = _values(sha, version, ref, env.name, hotfix, incident, previous_sha,
                     previous_version)
    final = _substitute(argv, values)
    _check_program(git_cwd(ctx), sha, final, env.name, which)
    env_vars = {f"HOTFIX_{k.upper()}": v for k, v in values.items()}
    if env.driver == "local-symlink":
        env_vars["HOTFIX_RELEASE_PATH"] = os.path.expanduser(env.path)
    return Plan(env, final, env_vars, sha, version, previous_sha, previous_version)


def _in_progress_error(row) -> HotfixError:
    started = row["started_at"][11:16]
    what = f"{row['kind']} {row['key']}" + (f" of {row['hotfix_key']}" if row["hotfix_key"]
                                            else "")
    return HotfixError(f"{row['env']}: {what} in progress, started by {row['started_by']} "
                       f"at {started} UTC")


def orphaned_runs(store: Store, env: str) -> list:
    """Interrupted runs on `env` whose command is still alive on this host: their runner
    died, but what they started did not. Nothing else may run there until they stop."""
    from ..deploy.cancel import group_members

    rows = store.all("SELECT d.*, h.key AS hotfix_key FROM deploys d LEFT JOIN hotfixes h "
                     "ON h.id = d.hotfix_id WHERE d.env = ? AND d.status = 'interrupted' AND "
                     "d.pgid IS NOT NULL ORDER BY d.id DESC LIMIT 20", (env,))
    return [r for r in rows if (not r["host"] or r["host"] == HOST)
            and group_members(r["pgid"])]


def _orphan_error(row) -> HotfixError:
    return HotfixError(f"{row['env']}: the command of interrupted {row['kind']} {row['key']} "
                       f"is still running (process group {row['pgid']}); stop it first: "
                       f"hotfix cancel {row['key']}")


def _runs_dir(ctx: Context) -> Path:
    return ctx.require_repo().common_dir / "hotfix" / "runs"


def _cleanup_run_worktrees(ctx: Context, store: Store) -> None:
    root = _runs_dir(ctx)
    if not root.is_dir():
        return
    for child in root.iterdir():
        row = store.one("SELECT status FROM deploys WHERE key = ?", (child.name,))
        if row is None or row["status"] != "running":
            gitops.remove_worktree(git_cwd(ctx), child)
            if child.exists():
                shutil.rmtree(child, ignore_errors=True)


def _launch(ctx: Context, run_row, sha: str) -> Deploy:
    """Make the run's worktree at exactly `sha` and start the detached runner."""
    from ..deploy import launch
    from .runs import finish_run

    workdir = Path(run_row["workdir"])
    try:
        if workdir.exists():
            gitops.remove_worktree(git_cwd(ctx), workdir)
        gitops.add_detached_worktree(git_cwd(ctx), workdir, sha)
        launch.spawn(str(ctx.db_path), run_row["id"], ctx.repo.toplevel if ctx.repo else None)
    except Exception as exc:
        with ctx.writing() as store:
            with store.write():
                run_rows.append_sys_line(store, run_row["id"], f"could not start: {exc}",
                                         ctx.now())
            finish_run(store, run_row["id"], RunStatus.FAILED, actor=ctx.actor,
                       note=f"could not start: {exc}")
        raise HotfixError(f"{run_row['key']}: could not start: {exc}") from exc
    with ctx.reading() as store:
        return get_run(store, run_row["id"])


def _new_run(ctx: Context, store: Store, plan: Plan, kind: str, now: str,
             hotfix_id: int | None, **extra):
    """Insert a run of `plan` (inside store.write()); refuses while another runs there,
    or while the command of an interrupted run is still alive."""
    running = run_rows.list_runs(store, env=plan.env.name, running_only=True)
    if running:
        raise _in_progress_error(running[0])
    orphans = orphaned_runs(store, plan.env.name)
    if orphans:
        raise _orphan_error(orphans[0])
    n = store.next_id("deploys")
    return run_rows.insert_run(
        store, env=plan.env.name, kind=kind, argv=plan.argv,
        workdir=str(_runs_dir(ctx) / f"D-{n}"), started_by=ctx.actor.name,
        started_by_verified=ctx.actor.verified, started_at=now, env_vars=plan.env_vars,
        hotfix_id=hotfix_id, sha=plan.sha, version=plan.version,
        previous_sha=plan.previous_sha, previous_version=plan.previous_version,
        timeout_s=plan.env.timeout_s, cancel_grace_s=plan.env.cancel_grace_s,
        max_log_bytes=plan.env.max_log_bytes, host=HOST, **extra)


# ---- deploy ---------------------------------------------------------------------------

def deploy(ctx: Context, key: str, env_name: str | None = None,
           break_glass: str | None = None, expected_head: str | None = None) -> Deploy:
    """Start a deploy. `expected_head` (from a confirmation) refuses if the hotfix moved
    since the user looked."""
    env = ctx.config.env(env_name or ctx.config.hotfix.production_env)
    reason = clean_text(break_glass, "break-glass reason") if break_glass is not None else ""
    if break_glass is not None and not reason:
        raise ValidationError("--break-glass needs a reason")
    if break_glass is not None and not ctx.config.approvals.break_glass:
        raise PolicyRefusal(f"deploy {key}", ["break-glass is disabled by [approvals] "
                                              "break_glass = false"])
    with ctx.open(create=False) as store:
        reap_in(ctx, store)  # a dead runner's hotfix is no longer deploying
        sync(ctx, key, store)
        hf = records.get_hotfix(store, key)
        env_row = _env_row(store, env.name)
        blockers = deploy_blockers(ctx, store, hf, env, bool(reason))
        if expected_head and hf.head_sha != expected_head:
            blockers.append(f"{hf.key} changed since you looked (head {hf.head_sha[:12]}, you "
                            f"saw {expected_head[:12]}); review it again")
        if blockers:
            raise PolicyRefusal(f"deploy {hf.key} to {env.name}", blockers)
        running = run_rows.list_runs(store, env=env.name, running_only=True)
        if running:
            raise _in_progress_error(running[0])
    plan = _plan(ctx, env, "deploy", hf.head_sha, hf.version, hf.branch, hf.key, hf.incident,
                 env_row["sha"] if env_row and env_row["sha"] else "",
                 env_row["version"] if env_row and env_row["version"] else "")
    now = ctx.now()
    with ctx.writing() as store:
        _cleanup_run_worktrees(ctx, store)
        with store.write():
            row = records.hotfix_row(store, key)
            if row["head_sha"] != hf.head_sha or row["state"] != str(hf.state):
                raise HotfixError(f"{hf.key} changed while starting the deploy; try again")
            lock = _env_row(store, env.name)
            if lock is not None and lock["locked"]:
                raise PolicyRefusal(f"deploy {hf.key} to {env.name}", [_lock_text(lock)])
            run = _new_run(ctx, store, plan, "deploy", now, row["id"],
                           break_glass=bool(reason), break_glass_reason=reason)
            audit.append(store, ctx.actor, now, "deploy", run["key"],
                         "deploy.break_glass" if reason else "deploy.started",
                         after={"env": env.name, "sha": plan.sha, "version": plan.version,
                                "argv": plan.argv, "break_glass_reason": reason or None},
                         incident=row["incident_key"], hotfix=row["key"])
            if reason:
                store.execute("UPDATE hotfixes SET break_glass = 1, break_glass_reason = ?, "
                              "needs_retroactive_approval = 1 WHERE id = ?",
                              (reason, row["id"]))
            set_state(ctx, store, row, HotfixState.DEPLOYING, now, "hotfix.deploying",
                      deploy=run["key"], env=env.name)
            _ensure_verify_items(store, row["id"], env)
    return _launch(ctx, run, plan.sha)


def _lock_text(lock) -> str:
    return (f"{lock['name']} is locked by {lock['locked_by']} since "
            f"{(lock['locked_at'] or '')[:16].replace('T', ' ')}: {lock['lock_reason']} "
            f"(hotfix unlock --env {lock['name']} --reason …)")


def deploy_blockers(ctx: Context, store: Store, hf, env: EnvironmentConfig,
                    break_glass: bool) -> list[str]:
    """Why this hotfix may not be deployed to `env` now (empty: it may)."""
    reasons: list[str] = []
    lock = _env_row(store, env.name)
    if lock is not None and lock["locked"]:
        reasons.append(_lock_text(lock))
    allowed = BREAK_GLASS_FROM if break_glass else GATED_FROM
    if hf.state not in allowed:
        stale = [a for a in hf.approvals if a.stale and a.decision == "approved"
                 and not a.stale_reason.startswith("superseded")]
        if hf.state is HotfixState.IN_REVIEW and stale:
            reasons.append(f"approval stale: {stale[-1].stale_reason} (approved by "
                           f"{stale[-1].approver}); it needs approving again")
        elif hf.state in (HotfixState.DRAFT, HotfixState.IN_REVIEW) and not break_glass:
            reasons.append(f"{hf.key} is not approved ({hf.state})")
        else:
            reasons.append(f"{hf.key} is {hf.state}; it cannot be deployed")
        return reasons
    if break_glass or not env.requires_approval:
        return reasons
    valid = appr.valid_approvers(hf.approvals)
    required = ctx.config.approvals.required
    if len(valid) < required:
        stale = [a for a in hf.approvals if a.stale and a.decision == "approved"]
        if stale:
            reasons.append(f"approval stale: {stale[-1].stale_reason}")
        else:
            reasons.append(f"{hf.key} has {len(valid)} of {required} approvals")
    return reasons


def _ensure_verify_items(store: Store, hotfix_id: int, env: EnvironmentConfig) -> None:
    for i, text in enumerate(env.verify_items, 1):
        store.execute("INSERT OR IGNORE INTO checklist_items (hotfix_id, kind, env, n, text) "
                      "VALUES (?, 'verify', ?, ?, ?)", (hotfix_id, env.name, i, text))


# ---- verify ---------------------------------------------------------------------------

def verify_items(ctx: Context, key: str, env_name: str | None = None):
    env = ctx.config.env(env_name or ctx.config.hotfix.production_env)
    with ctx.reading() as store:
        row = records.hotfix_row(store, key)
        return records.checklist_for(store, row["id"], "verify", env.name) or [
            ChecklistItem(n=i, text=t, automatic=False, checked=False)
            for i, t in enumerate(env.verify_items, 1)]


def verify(ctx: Context, key: str, env_name: str | None = None,
           item: int | None = None, uncheck: bool = False) -> Deploy | None:
    """Run the verify command as its own run, or tick a manual verify item."""
    env = ctx.config.env(env_name or ctx.config.hotfix.production_env)
    with ctx.open(create=False) as store:
        hf = records.get_hotfix(store, key)
        env_row = _env_row(store, env.name)
    if hf.state not in (HotfixState.DEPLOYED, HotfixState.VERIFIED):
        raise PolicyRefusal(f"verify {hf.key}", [f"{hf.key} is {hf.state}; deploy it first"])
    if env_row is None or env_row["sha"] != hf.head_sha:
        raise PolicyRefusal(f"verify {hf.key}", [
            f"{env.name} is not running {hf.key} ({hf.version}); it runs "
            f"{(env_row['version'] if env_row else None) or 'nothing recorded'}"])
    now = ctx.now()
    if item is not None:
        if not 1 <= item <= len(env.verify_items):
            raise ValidationError(f"{env.name} has no verify item {item} "
                                  f"({len(env.verify_items)} configured)")
        with ctx.writing() as store, store.write():
            row = records.hotfix_row(store, key)
            _ensure_verify_items(store, row["id"], env)
            store.execute(
                "UPDATE checklist_items SET checked = ?, checked_by = ?, checked_by_verified = ?,"
                " checked_at = ? WHERE hotfix_id = ? AND kind = 'verify' AND env = ? AND n = ?",
                (int(not uncheck), None if uncheck else ctx.actor.name, int(ctx.actor.verified),
                 None if uncheck else now, row["id"], env.name, item))
            audit.append(store, ctx.actor, now, "checklist", row["key"],
                         "verify.unchecked" if uncheck else "verify.checked",
                         after={"env": env.name, "n": item,
                                "text": env.verify_items[item - 1]},
                         incident=row["incident_key"], hotfix=row["key"])
            maybe_verified(store, row["id"], env.name, now, ctx.actor, env)
        return None
    if not env.verify:
        with ctx.writing() as store, store.write():
            row = records.hotfix_row(store, key)
            _ensure_verify_items(store, row["id"], env)
            if not maybe_verified(store, row["id"], env.name, now, ctx.actor, env):
                left = [i.text for i in records.checklist_for(store, row["id"], "verify",
                                                              env.name) if not i.checked]
                raise PolicyRefusal(f"verify {hf.key}", [
                    "manual verify items not ticked: " + "; ".join(left)])
        return None
    plan = _plan(ctx, env, "verify", hf.head_sha, hf.version, hf.branch, hf.key, hf.incident,
                 env_row["sha"] or "", env_row["version"] or "")
    with ctx.writing() as store:
        _cleanup_run_worktrees(ctx, store)
        with store.write():
            row = records.hotfix_row(store, key)
            run = _new_run(ctx, store, plan, "verify", now, row["id"])
            _ensure_verify_items(store, row["id"], env)
            audit.append(store, ctx.actor, now, "deploy", run["key"], "verify.started",
                         after={"env": env.name, "sha": plan.sha, "version": plan.version,
                                "argv": plan.argv},
                         incident=row["incident_key"], hotfix=row["key"])
    return _launch(ctx, run, plan.sha)


def maybe_verified(store: Store, hotfix_id: int, env_name: str, now: str, actor,
                   env: EnvironmentConfig | None = None, verify_configured: bool | None = None
                   ) -> bool:
    """deployed → verified once the verify run (if any) passed and every item is ticked."""
    h = store.one("SELECT h.*, i.key AS incident_key FROM hotfixes h JOIN incidents i "
                  "ON i.id = h.incident_id WHERE h.id = ?", (hotfix_id,))
    if h["state"] != str(HotfixState.DEPLOYED):
        return h["state"] == str(HotfixState.VERIFIED)
    items = records.checklist_for(store, hotfix_id, "verify", env_name)
    if any(not i.checked for i in items):
        return False
    needs_run = verify_configured if verify_configured is not None else bool(env and env.verify)
    if needs_run:
        ok = store.one("SELECT 1 FROM deploys WHERE hotfix_id = ? AND env = ? AND kind = "
                       "'verify' AND status = 'succeeded' AND sha = ? ORDER BY id DESC LIMIT 1",
                       (hotfix_id, env_name, h["head_sha"]))
        if ok is None:
            return False
    check_hotfix_transition(h["key"], HotfixState.DEPLOYED, HotfixState.VERIFIED)
    store.execute("UPDATE hotfixes SET state = 'verified', updated_at = ? WHERE id = ?",
                  (now, hotfix_id))
    audit.append(store, actor, now, "hotfix", h["key"], "hotfix.verified",
                 before={"state": "deployed"}, after={"state": "verified", "env": env_name},
                 incident=h["incident_key"], hotfix=h["key"])
    return True


# ---- rollback, locks --------------------------------------------------------------------

def rollback_target(store: Store, env_name: str, to: str | None = None
                    ) -> tuple[str, str] | None:
    """(version, sha) of the last known-good release before the current one."""
    current = _env_row(store, env_name)
    rolled_away = {r["previous_sha"] for r in store.all(
        "SELECT previous_sha FROM deploys WHERE env = ? AND kind = 'rollback'", (env_name,))}
    history = store.all(
        "SELECT version, sha FROM deploys WHERE env = ? AND kind IN ('deploy', 'rollback') "
        "AND status = 'succeeded' ORDER BY id DESC", (env_name,))
    adopted = store.all("SELECT data FROM audit_events WHERE entity = 'environment' AND "
                        "entity_key = ? AND action = 'environment.adopted' ORDER BY id DESC",
                        (env_name,))
    import json

    candidates = [(r["version"], r["sha"]) for r in history]
    for a in adopted:
        after = json.loads(a["data"]).get("after") or {}
        candidates.append((after.get("version", ""), after.get("sha", "")))
    for version, sha in candidates:
        if not sha:
            continue
        if to is not None:
            if version == to.removeprefix("v"):
                return version, sha
            continue
        if current is not None and sha == current["sha"]:
            continue
        if sha in rolled_away:
            continue
        return version, sha
    return None


@dataclass(frozen=True)
class RollbackPreview:
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

    def to_json(self) -> dict:
        return {"env": self.env, "current_version": self.current_version,
                "current_sha": self.current_sha, "target_version": self.target_version,
                "target_sha": self.target_sha, "argv": list(self.argv), "hotfix": self.hotfix}


def rollback_preview(ctx: Context, env_name: str | None, to: str | None = None
                     ) -> RollbackPreview:
    """What a rollback would do now: from which release to which, running what.
    Raises the refusal a rollback would raise."""
    env = ctx.config.env(env_name or ctx.config.hotfix.production_env)
    with ctx.open(create=False) as store:
        reap_in(ctx, store)
        running = run_rows.list_runs(store, env=env.name, running_only=True)
        if running:
            err = _in_progress_error(running[0])
            raise HotfixError(f"{err}; cancel it first (hotfix cancel {running[0]['key']})")
        orphans = orphaned_runs(store, env.name)
        if orphans:
            raise _orphan_error(orphans[0])
        current = _env_row(store, env.name)
        if current is None or not current["sha"]:
            raise HotfixError(f"{env.name}: nothing is recorded as deployed; nothing to roll "
                              "back")
        target = rollback_target(store, env.name, to)
        # A deploy that failed (or was cancelled, timed out, interrupted) after the recorded
        # release may have left the environment half-changed: putting the recorded release
        # back is the rollback, not going back one more release.
        last = store.one(
            "SELECT d.id, d.kind, d.status, d.sha, d.version, d.previous_sha, "
            "d.previous_version, h.id AS hotfix_id, h.key AS hotfix_key, "
            "i.key AS incident_key FROM deploys d LEFT JOIN hotfixes h ON h.id = d.hotfix_id "
            "LEFT JOIN incidents i ON i.id = h.incident_id WHERE d.env = ? AND d.kind IN "
            "('deploy', 'rollback') ORDER BY d.id DESC LIMIT 1", (env.name,))
        unsettled = (last is not None and last["status"] != "succeeded"
                     and (current["deploy_id"] is None or last["id"] > current["deploy_id"]))
        if to is None and unsettled:
            if last["kind"] == "rollback":  # a rollback that did not finish: try it again
                target = (last["version"], last["sha"])
            else:  # a deploy that did not finish: put the recorded release back
                target = (current["version"] or "", current["sha"])
        if target is None and to is not None:
            tag = ctx.config.hotfix.tag_format.format(version=to.removeprefix("v"))
            if gitops.ref_exists(git_cwd(ctx), f"refs/tags/{tag}"):
                target = (to.removeprefix("v"), gitops.resolve_commit(git_cwd(ctx), tag))
            else:
                raise NotFound(f"{env.name}: no release {to} in its history or tags")
        if target is None:
            raise HotfixError(f"{env.name}: no earlier known-good release to roll back to "
                              "(give --to VERSION)")
        hotfix_row = store.one("SELECT h.id, h.key, h.state, i.key AS incident_key FROM "
                               "deploys d JOIN hotfixes h ON h.id = d.hotfix_id JOIN incidents i "
                               "ON i.id = h.incident_id WHERE d.id = ?",
                               (current["deploy_id"],)) if current["deploy_id"] else None
        previous_sha, previous_version = current["sha"], current["version"] or ""
        if to is None and unsettled and last["kind"] == "rollback":
            previous_sha, previous_version = last["previous_sha"], last["previous_version"]
            hotfix_row = ({"id": last["hotfix_id"], "key": last["hotfix_key"],
                           "incident_key": last["incident_key"]} if last["hotfix_id"] else None)
        elif to is None and unsettled:
            previous_sha, previous_version = last["sha"], last["version"]
            hotfix_row = ({"id": last["hotfix_id"], "key": last["hotfix_key"],
                           "incident_key": last["incident_key"]} if last["hotfix_id"] else None)
    version, sha = target
    which = "rollback" if env.rollback else "deploy"
    hkey = hotfix_row["key"] if hotfix_row else None
    incident = hotfix_row["incident_key"] if hotfix_row else None
    plan = _plan(ctx, env, which, sha, version, version, hkey or "", incident or "",
                 previous_sha, previous_version)
    return RollbackPreview(env.name, previous_version, previous_sha, version, sha,
                           tuple(plan.argv), hkey, incident,
                           hotfix_row["id"] if hotfix_row else None, plan)


def rollback(ctx: Context, env_name: str | None, reason: str, to: str | None = None,
             expected: tuple[str, str] | None = None) -> Deploy:
    """Roll back. `expected` = (current sha, target sha) from the confirmation the user
    read: refused if either changed meanwhile."""
    env = ctx.config.env(env_name or ctx.config.hotfix.production_env)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ValidationError("a rollback needs a --reason")
    pv = rollback_preview(ctx, env.name, to)
    if expected is not None and expected != (pv.current_sha, pv.target_sha):
        raise PolicyRefusal(f"rollback {env.name}", [
            f"{env.name} changed since you looked (it now runs {pv.current_version} and would "
            f"go back to {pv.target_version}); review the rollback again"])
    plan = pv.plan
    version, sha = pv.target_version, pv.target_sha
    current = {"sha": pv.current_sha, "version": pv.current_version}
    hotfix_row = {"id": pv.hotfix_id, "key": pv.hotfix, "incident_key": pv.incident} \
        if pv.hotfix else None
    now = ctx.now()
    with ctx.writing() as store:
        _cleanup_run_worktrees(ctx, store)
        with store.write():
            run = _new_run(ctx, store, plan, "rollback", now,
                           hotfix_row["id"] if hotfix_row else None, reason=reason)
            incident = hotfix_row["incident_key"] if hotfix_row else None
            hkey = hotfix_row["key"] if hotfix_row else None
            audit.append(store, ctx.actor, now, "deploy", run["key"], "rollback.started",
                         before={"version": current["version"], "sha": current["sha"]},
                         after={"env": env.name, "version": version, "sha": sha,
                                "argv": plan.argv, "reason": reason},
                         incident=incident, hotfix=hkey)
            # locked now, whatever the outcome; the hotfix becomes rolled_back only when
            # the rollback succeeds (services.runs)
            _lock(ctx, store, env.name, f"rolled back ({run['key']}): {reason}", now,
                  incident, hkey)
    return _launch(ctx, run, sha)


def _lock(ctx: Context, store: Store, env: str, reason: str, now: str,
          incident: str | None = None, hotfix: str | None = None) -> None:
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
    now = ctx.now()
    with ctx.writing() as store, store.write():
        _lock(ctx, store, env.name, reason, now)
    return status_of(ctx, env.name)


def unlock(ctx: Context, env_name: str, reason: str) -> EnvironmentStatus:
    env = ctx.config.env(env_name)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ValidationError("unlocking needs a --reason (what addressed the cause?)")
    with ctx.reading() as store:
        row = _env_row(store, env.name)
        if row is None or not row["locked"]:
            raise HotfixError(f"{env.name} is not locked")
    now = ctx.now()
    with ctx.writing() as store, store.write():
        row = _env_row(store, env.name)
        store.execute("UPDATE environments SET locked = 0, locked_by = NULL, locked_at = NULL, "
                      "lock_reason = NULL WHERE name = ?", (env.name,))
        audit.append(store, ctx.actor, now, "environment", env.name, "environment.unlocked",
                     before={"locked_by": row["locked_by"], "reason": row["lock_reason"]},
                     after={"reason": reason})
    return status_of(ctx, env.name)


def adopt(ctx: Context, env_name: str, ref: str) -> EnvironmentStatus:
    """Record what an environment runs today, before its first deploy through hotfix."""
    env = ctx.config.env(env_name)
    from ..core.refs import version_from_tag

    sha = gitops.resolve_commit(git_cwd(ctx), ref, "release ref")
    v = version_from_tag(ref, ctx.config.hotfix.tag_format)
    if v is None:
        tags = [t for t in gitops.tags_at(git_cwd(ctx), sha)
                if version_from_tag(t, ctx.config.hotfix.tag_format)]
        v = version_from_tag(tags[0], ctx.config.hotfix.tag_format) if tags else None
    if v is None:
        raise HotfixError(f"{ref} is not a release tag (like "
                          f"{ctx.config.hotfix.tag_format.format(version='1.2.3')})")
    version = ".".join(map(str, v))
    now = ctx.now()
    with ctx.writing() as store, store.write():
        store.execute(
            "INSERT INTO environments (name, version, sha, deployed_by, deployed_by_verified, "
            "deployed_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
            "version = excluded.version, sha = excluded.sha, deployed_by = excluded.deployed_by,"
            " deployed_by_verified = excluded.deployed_by_verified, "
            "deployed_at = excluded.deployed_at, deploy_id = NULL",
            (env.name, version, sha, ctx.actor.name, int(ctx.actor.verified), now))
        audit.append(store, ctx.actor, now, "environment", env.name, "environment.adopted",
                     after={"version": version, "sha": sha})
    return status_of(ctx, env.name)


# ---- cancel, reading ------------------------------------------------------------------

def cancel(ctx: Context, deploy_key: str) -> Deploy:
    """Cancel a running run; or stop what an interrupted run's command left running."""
    from ..deploy import cancel as cancelling

    with ctx.open(create=False) as store:
        reap_in(ctx, store)
        row = run_rows.run_row(store, deploy_key)
    now = ctx.now()
    if row["status"] == "interrupted":
        with ctx.writing() as store:
            if not any(r["id"] == row["id"] for r in orphaned_runs(store, row["env"])):
                raise HotfixError(f"{row['key']} is interrupted and nothing of it is left "
                                  "running; nothing to cancel")
            cancelling.check_may_signal(row["key"], row["pgid"])
            what = cancelling.stop_lost_group(row["pgid"], float(row["cancel_grace_s"]))
            with store.write():
                audit.append(store, ctx.actor, now, "deploy", row["key"],
                             "deploy.orphan_stopped", after={"env": row["env"], "what": what},
                             hotfix=row["hotfix_key"], incident=_incident_of(store, row))
        with ctx.reading() as store:
            return get_run(store, row["key"])
    if row["status"] != "running":
        raise HotfixError(f"{row['key']} is {row['status']}; nothing to cancel")
    with ctx.writing() as store:
        cancelling.request_cancel(store, row["id"], ctx.actor, now)
    with ctx.reading() as store:
        return get_run(store, row["key"])


def _incident_of(store: Store, row) -> str | None:
    if row["hotfix_id"] is None:
        return None
    return store.scalar("SELECT i.key FROM hotfixes h JOIN incidents i ON i.id = h.incident_id "
                        "WHERE h.id = ?", (row["hotfix_id"],))


def get_run(store: Store, key: str | int) -> Deploy:
    row = run_rows.run_row(store, key)
    return run_rows.deploy_from_row(row, effective_status(row))


def show_run(ctx: Context, key: str) -> Deploy:
    with ctx.reading() as store:
        return get_run(store, key)


def list_runs(ctx: Context, env: str | None = None, hotfix: str | None = None,
              limit: int | None = 200) -> list[Deploy]:
    if env:
        ctx.config.env(env) if ctx.config.environments else None
    with ctx.reading() as store:
        hotfix_id = records.hotfix_row(store, hotfix)["id"] if hotfix else None
        rows = run_rows.list_runs(store, env=env, hotfix_id=hotfix_id, limit=limit)
        return [run_rows.deploy_from_row(r, effective_status(r)) for r in rows]


def status_of(ctx: Context, env_name: str) -> EnvironmentStatus:
    return next(s for s in status(ctx) if s.env == env_name)


def status(ctx: Context, reap: bool = True) -> list[EnvironmentStatus]:
    prod = ctx.config.hotfix.production_env
    names = sorted(ctx.config.env_names, key=lambda n: n != prod)
    with ctx.open(create=False) as store:
        if reap:
            reap_in(ctx, store)
        rows = {r["name"]: r for r in store.all("SELECT * FROM environments")}
        for n in rows:
            if n not in names:
                names.append(n)
        out = []
        now = datetime.now(UTC)
        for name in names:
            r = rows.get(name)
            running = run_rows.list_runs(store, env=name, running_only=True)
            run_info = None
            if running:
                rr = running[0]
                eff = effective_status(rr)
                started = datetime.fromisoformat(rr["started_at"].replace("Z", "+00:00"))
                run_info = {"key": rr["key"], "kind": rr["kind"], "hotfix": rr["hotfix_key"],
                            "version": rr["version"], "started_by": rr["started_by"],
                            "started_at": rr["started_at"], "status": str(eff),
                            "elapsed_s": int((now - started).total_seconds())}
            out.append(EnvironmentStatus(
                env=name,
                version=r["version"] if r else None,
                sha=r["sha"] if r else None,
                deployed_by=r["deployed_by"] if r else None,
                deployed_at=r["deployed_at"] if r else None,
                locked=bool(r["locked"]) if r else False,
                locked_by=r["locked_by"] if r else None,
                lock_reason=r["lock_reason"] if r else None,
                locked_at=r["locked_at"] if r else None,
                running=run_info,
            ))
        return out


def run_log(ctx: Context, key: str, after_seq: int = 0, limit: int = 1_000_000):
    with ctx.reading() as store:
        row = run_rows.run_row(store, key)
        out = []
        while True:
            page = run_rows.read_lines(store, row["id"], after_seq, 5000)
            out.extend(page)
            if len(page) < 5000 or len(out) >= limit:
                return out
            after_seq = page[-1].seq


@dataclass(frozen=True)
class DeployPreview:
    env: str
    current_version: str
    target_version: str
    sha: str
    argv: tuple[str, ...]
    blockers: tuple[str, ...]
    locked: str = ""


def deploy_preview(ctx: Context, key: str, env_name: str, break_glass: bool = False
                   ) -> DeployPreview:
    """What deploying `key` to `env_name` would run, and why it may not (for confirmations)."""
    env = ctx.config.env(env_name)
    with ctx.open(create=False) as store:
        hf = records.get_hotfix(store, key)
        env_row = _env_row(store, env.name)
        blockers = deploy_blockers(ctx, store, hf, env, break_glass)
        running = run_rows.list_runs(store, env=env.name, running_only=True)
        if running:
            blockers.append(str(_in_progress_error(running[0])))
        blockers += [str(_orphan_error(r)) for r in orphaned_runs(store, env.name)[:1]]
    current_version = (env_row["version"] if env_row else "") or ""
    try:
        plan = _plan(ctx, env, "deploy", hf.head_sha, hf.version, hf.branch, hf.key,
                     hf.incident, (env_row["sha"] if env_row else "") or "", current_version)
        argv = tuple(plan.argv)
    except HotfixError as exc:
        argv = ()
        blockers.append(str(exc))
    return DeployPreview(env.name, current_version, hf.version, hf.head_sha, argv,
                         tuple(blockers),
                         _lock_text(env_row) if env_row is not None and env_row["locked"]
                         else "")
