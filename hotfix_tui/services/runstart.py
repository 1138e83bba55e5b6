"""Starting a run: what it will run (checked before anything changes), the row that
claims the environment, and the detached runner that carries it out."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import gitops
from ..config import EnvironmentConfig
from ..core.errors import ConfigError, HotfixError, PolicyRefusal
from ..core.models import Deploy, RunStatus
from ..deploy import launch
from ..deploy.lifecycle import HOST, finish_run, release_worktree
from ..store import runs as run_rows
from ..store.db import Store
from . import refusals
from .context import Context
from .hotfixes import git_cwd
from .runs import get_run


@dataclass(frozen=True)
class Plan:
    """Everything a run needs to start: the command, its environment, the content."""

    env: EnvironmentConfig
    argv: list[str]
    env_vars: dict[str, str]
    sha: str
    version: str
    previous_sha: str
    previous_version: str


@dataclass(frozen=True)
class Release:
    """What a run deploys (or verifies) and what it replaces, by the placeholders'
    names."""

    sha: str
    version: str
    ref: str
    hotfix: str = ""
    incident: str = ""
    previous_sha: str = ""
    previous_version: str = ""

    def values(self, env: str) -> dict[str, str]:
        return {"sha": self.sha, "short_sha": self.sha[:12], "version": self.version,
                "ref": self.ref, "env": env, "hotfix": self.hotfix,
                "incident": self.incident, "previous_sha": self.previous_sha,
                "previous_version": self.previous_version}


def _deploy_argv(env: EnvironmentConfig, which: str) -> list[str]:
    if env.driver == "local-symlink" and which in ("deploy", "rollback"):
        return [sys.executable, "-m", "hotfix_tui.deploy.drivers", "local-symlink",
                "--path", os.path.expanduser(env.path), "--version", "{version}",
                "--sha", "{sha}"]
    argv = list(getattr(env, which))
    if not argv:
        raise ConfigError(f"environments.{env.name}.{which} is empty: nothing to run")
    return argv


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
        _check_committed_program(cwd, sha, prog, where)
        return
    if shutil.which(prog) is None:
        raise ConfigError(f"{where}: program {prog} not found on PATH")


def _check_committed_program(cwd: Path, sha: str, prog: str, where: str) -> None:
    """A program inside the repository must be committed, executable, at `sha`."""
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


def make_plan(ctx: Context, env: EnvironmentConfig, which: str, release: Release) -> Plan:
    """The command `which` (deploy, verify, rollback) of `env` for `release`, with its
    placeholders filled, its program checked, and its environment variables."""
    values = release.values(env.name)
    # Placeholders were checked when the config was read; format_map only fills them.
    final = [arg.format_map(values) for arg in _deploy_argv(env, which)]
    _check_program(git_cwd(ctx), release.sha, final, env.name, which)
    env_vars = {f"HOTFIX_{k.upper()}": v for k, v in values.items()}
    if env.driver == "local-symlink":
        env_vars["HOTFIX_RELEASE_PATH"] = os.path.expanduser(env.path)
    return Plan(env, final, env_vars, release.sha, release.version, release.previous_sha,
                release.previous_version)


def runs_dir(ctx: Context) -> Path:
    return ctx.require_repo().common_dir / "hotfix" / "runs"


def cleanup_run_worktrees(ctx: Context, store: Store) -> None:
    """Remove the worktrees that runs left (each runner removes its own when its run
    ends; a runner that died could not): never one where something of its run still
    runs (lifecycle.release_worktree)."""
    root = runs_dir(ctx)
    if not root.is_dir():
        return
    for child in root.iterdir():
        row = store.one("SELECT * FROM deploys WHERE key = ?", (child.name,))
        if row is not None:
            release_worktree(git_cwd(ctx), row)
            continue
        gitops.remove_worktree(git_cwd(ctx), child)
        if child.exists():
            shutil.rmtree(child, ignore_errors=True)


def new_run(ctx: Context, store: Store, plan: Plan, kind: str, now: str,
            hotfix_id: int | None, **extra):
    """Insert a run of `plan` (inside store.write()); refuses while another runs there,
    or while the command of an interrupted run is still alive."""
    busy = refusals.env_busy(store, plan.env.name)
    if busy:
        raise PolicyRefusal(f"{kind} on {plan.env.name}", busy)
    n = store.next_id("deploys")
    # the release path this run starts under decides what its end means (lifecycle)
    extra.setdefault("gate_env", ctx.config.gate_env or "")
    extra.setdefault("later_envs", ctx.config.later_envs(plan.env.name))
    return run_rows.insert_run(
        store, env=plan.env.name, kind=kind, argv=plan.argv,
        workdir=str(runs_dir(ctx) / f"D-{n}"), started_by=ctx.actor.name,
        started_by_verified=ctx.actor.verified, started_at=now, env_vars=plan.env_vars,
        hotfix_id=hotfix_id, sha=plan.sha, version=plan.version,
        previous_sha=plan.previous_sha, previous_version=plan.previous_version,
        timeout_s=plan.env.timeout_s, cancel_grace_s=plan.env.cancel_grace_s,
        max_log_bytes=plan.env.max_log_bytes, host=HOST, **extra)


def launch_run(ctx: Context, run_row, sha: str) -> Deploy:
    """Make the run's worktree at exactly `sha` and start the detached runner."""
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
