"""deploy, verify, rollback, cancel, log, deploys, status, lock, unlock, adopt."""

from __future__ import annotations

import sys

import click

from .. import services
from ..core.models import Deploy, LogLine, RunStatus, actor_label
from ..core.timeline import run_phrase
from .common import (
    EXIT_INTERRUPTED,
    RUN_EXIT_CODES,
    emit,
    emit_items,
    emit_line,
    err,
    exit_code,
    get_ctx,
    json_option,
    out,
    safe,
    table,
)
from .completion_cmd import (
    complete_active_hotfix,
    complete_env,
    complete_hotfix,
    complete_run,
    complete_running,
)

ENV_HELP = "Environment (default: [hotfix] production_env)."


def env_option(required: bool = False, help: str = ENV_HELP):
    return click.option("--env", "env", required=required, default=None, help=help,
                        shell_complete=complete_env)


def _line_text(line: LogLine) -> str:
    marks = ""
    if line.truncated:
        marks += " [truncated]"
    if line.invalid_utf8:
        marks += " [invalid utf-8]"
    prefix = {"out": "", "err": "[stderr] ", "sys": "[hotfix] "}.get(line.stream, "")
    return f"{prefix}{safe(line.text)}{marks}"


def _outcome(d: Deploy) -> str:
    if d.signal:
        return f"{d.status} (signal {d.signal})"
    if d.exit_code is not None and d.status is not RunStatus.SUCCEEDED:
        return f"{d.status} (exit {d.exit_code})"
    return str(d.status)


def follow_run(ctx, d: Deploy, as_json: bool = False) -> Deploy:
    """Print the run's log as it arrives until it ends; Ctrl-C stops following only."""
    try:
        for line in services.follow_log(ctx, d.key):
            if as_json:
                emit_line(line.to_json())
            else:
                out(_line_text(line))
            sys.stdout.flush()
    except KeyboardInterrupt:
        err(f"stopped following {d.key}; it keeps running "
            f"(hotfix log {d.key} --follow to watch again)")
        raise SystemExit(EXIT_INTERRUPTED) from None
    return services.show_run(ctx, d.key)


def exit_with_outcome(run: Deploy) -> None:
    """A command that waited for a run ends with the run's outcome (README, Exit codes)."""
    code = RUN_EXIT_CODES.get(run.status, 1)
    if code:
        exit_code(code)


def _finish(ctx, d: Deploy, detach: bool, as_json: bool) -> None:
    if detach:
        if as_json:
            emit(d.to_json())
        else:
            out(f"{d.key} started ({run_phrase(str(d.kind), d.version, d.env)}); "
                f"watch: hotfix log {d.key} --follow")
        return
    if not as_json:
        out(f"{d.key}: {run_phrase(str(d.kind), d.version, d.env)} started by "
            f"{actor_label(d.started_by, d.started_by_verified)}")
    final = follow_run(ctx, d, as_json=False) if not as_json else None
    if as_json:
        final = services.wait_run(ctx, d.key)
        emit(final.to_json())
    else:
        out(f"{final.key}: {_outcome(final)}")
    exit_with_outcome(final)


@click.command("deploy")
@click.argument("key", shell_complete=complete_active_hotfix)
@env_option()
@click.option("--detach", is_flag=True, help="Start and return at once.")
@click.option("--break-glass", "break_glass", default=None, metavar="REASON",
              help="Deploy without approval (recorded and flagged; needs approval after).")
@json_option
def deploy_cmd(key: str, env: str | None, detach: bool, break_glass: str | None,
               as_json: bool) -> None:
    """Deploy an approved hotfix; the run outlives this command."""
    ctx = get_ctx()
    d = services.deploy(ctx, key, env, break_glass)
    if d.break_glass:
        err(f"warning: BREAK-GLASS: {d.key} deploys {key} without approval; an approval "
            "after the fact is required before it can be finished")
    _finish(ctx, d, detach, as_json)


@click.command("verify")
@click.argument("key", shell_complete=complete_active_hotfix)
@env_option()
@click.option("--item", type=int, default=None, help="Tick manual verify item N.")
@click.option("--uncheck", is_flag=True, help="With --item: untick it.")
@click.option("--detach", is_flag=True)
@json_option
def verify_cmd(key: str, env: str | None, item: int | None, uncheck: bool, detach: bool,
               as_json: bool) -> None:
    """Run the verify check, or tick a manual verify item; all pass → verified."""
    ctx = get_ctx()
    d = services.verify(ctx, key, env, item, uncheck)
    if d is None:
        hf = services.get_hotfix(ctx, key)
        items = services.verify_items(ctx, key, env)
        env_name = env or ctx.config.hotfix.production_env
        if as_json:
            emit_items([i.to_json() for i in items], hotfix=hf.key, env=env_name,
                       state=str(hf.state))
        else:
            for i in items:
                out(f"{'[x]' if i.checked else '[ ]'} {i.n} {i.text}")
            out(f"{hf.key} {hf.state}")
        return
    _finish(ctx, d, detach, as_json)


@click.command("rollback")
@env_option()
@click.option("--reason", required=True, help="Why: it goes in the record and the lock.")
@click.option("--to", "to", default=None, metavar="VERSION",
              help="Release to return to (default: the last known-good one).")
@click.option("--follow/--detach", "follow", default=True)
@json_option
def rollback_cmd(env: str | None, reason: str, to: str | None, follow: bool,
                 as_json: bool) -> None:
    """Return the environment to its last known-good release and lock it."""
    ctx = get_ctx()
    d = services.rollback(ctx, env, reason, to)
    if not as_json:
        err(f"{d.env} stays locked until someone runs: hotfix unlock --env {d.env} "
            "--reason 'cause addressed'")
    _finish(ctx, d, not follow, as_json)


@click.command("cancel")
@click.argument("deploy", metavar="RUN", shell_complete=complete_running)
@json_option
def cancel_cmd(deploy: str, as_json: bool) -> None:
    """Cancel a run: SIGTERM to its process group, SIGKILL after the grace period."""
    d = services.cancel(get_ctx(), deploy)
    if as_json:
        emit(d.to_json())
    else:
        out(f"{d.key}: cancel requested ({d.status})")


@click.command("log")
@click.argument("deploy", metavar="RUN", shell_complete=complete_run)
@click.option("--follow", "-f", is_flag=True,
              help="Keep printing as lines arrive, until the run ends; exit with its "
                   "outcome (--json: one log line document per line).")
@json_option
def log_cmd(deploy: str, follow: bool, as_json: bool) -> None:
    """Print (or follow) any run's log."""
    ctx = get_ctx()
    d = services.show_run(ctx, deploy)
    if follow:
        exit_with_outcome(follow_run(ctx, d, as_json))
        return
    lines = services.run_log(ctx, deploy)
    if as_json:
        emit({"run": d.to_json(), "lines": [ln.to_json() for ln in lines]})
        return
    for ln in lines:
        out(_line_text(ln))


@click.command("deploys")
@env_option(help="Only runs on this environment.")
@click.option("--hotfix", "hotfix", default=None, metavar="KEY", shell_complete=complete_hotfix,
              help="Only runs of this hotfix.")
@json_option
def deploys_cmd(env: str | None, hotfix: str | None, as_json: bool) -> None:
    """Runs (deploy, verify, rollback), newest first."""
    items = services.list_runs(get_ctx(), env, hotfix)
    if as_json:
        emit_items([d.to_json() for d in items])
        return
    if not items:
        out("no deploys")
        return
    out(table(["key", "kind", "env", "hotfix", "version", "status", "by", "started", "lines"],
              [[d.key, str(d.kind) + (" BREAK-GLASS" if d.break_glass else ""), d.env,
                d.hotfix or "-", d.version, _outcome(d),
                actor_label(d.started_by, d.started_by_verified),
                d.started_at[:19].replace("T", " "), str(d.lines)] for d in items]))


@click.command("status")
@json_option
def status_cmd(as_json: bool) -> None:
    """What runs where: version, who deployed it, locks, running deploys."""
    items = services.status(get_ctx())
    if as_json:
        emit_items([s.to_json() for s in items])
        return
    if not items:
        out("no environments configured")
        return
    rows = []
    for s in items:
        lock = f"LOCKED by {s.locked_by}: {s.lock_reason}" if s.locked else ""
        run = ""
        if s.running:
            r = s.running
            run = f"{r['kind']} {r['key']} {r['status']} {r['elapsed_s']}s"
        rows.append([s.env, s.version or "-", (s.sha or "")[:12] or "-", s.deployed_by or "-",
                     (s.deployed_at or "-")[:16].replace("T", " "), run or "-", lock or "-"])
    out(table(["env", "version", "sha", "by", "at", "running", "lock"], rows))


def _env_result(s, as_json: bool, line: str) -> None:
    if as_json:
        emit(s.to_json())
    else:
        out(line)


@click.command("lock")
@env_option(required=True, help="The environment.")
@click.option("--reason", required=True)
@json_option
def lock_cmd(env: str, reason: str, as_json: bool) -> None:
    """Lock an environment: no deploys until unlocked."""
    s = services.lock(get_ctx(), env, reason)
    _env_result(s, as_json, f"{s.env} locked by {s.locked_by}: {safe(s.lock_reason)}")


@click.command("unlock")
@env_option(required=True, help="The environment.")
@click.option("--reason", required=True, help="What addressed the cause.")
@json_option
def unlock_cmd(env: str, reason: str, as_json: bool) -> None:
    """Unlock an environment (after a rollback, say why it is safe again)."""
    s = services.unlock(get_ctx(), env, reason)
    _env_result(s, as_json, f"{s.env} unlocked")


@click.command("adopt")
@env_option(required=True, help="The environment.")
@click.option("--ref", "ref", required=True, help="The release tag it runs now.")
@json_option
def adopt_cmd(env: str, ref: str, as_json: bool) -> None:
    """Record what an environment already runs (before its first deploy through hotfix)."""
    s = services.adopt(get_ctx(), env, ref)
    _env_result(s, as_json, f"{s.env} runs {s.version} ({(s.sha or '')[:12]})")


def register(root: click.Group) -> None:
    for cmd in (deploy_cmd, verify_cmd, rollback_cmd, cancel_cmd, log_cmd, deploys_cmd,
                status_cmd, lock_cmd, unlock_cmd, adopt_cmd):
        root.add_command(cmd)
