"""Runs (deploy, verify, rollback) as the faces see them: read, follow, wait for, cancel.

What a run's end means is decided below, in deploy.lifecycle; starting one is in
runstart.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from ..core.errors import HotfixError, NotFound, PolicyRefusal, ValidationError
from ..core.models import Deploy, LogLine, RunStatus
from ..core.workflow import clean_text
from ..deploy import cancel as cancelling
from ..deploy import follow as following
from ..deploy import launch
from ..deploy.lifecycle import (
    effective_status,
    incident_of,
    record_survivors,
    release_worktree,
)
from ..store import audit, records
from ..store import runs as run_rows
from ..store.db import Store
from . import refusals
from .context import Context
from .reaping import reap, reap_in  # noqa: F401  (part of runs' API)

typical_duration = run_rows.typical_duration  # (part of runs' API)


def get_run(store: Store, key: str | int) -> Deploy:
    row = run_rows.run_row(store, key)
    return run_rows.deploy_from_row(row, effective_status(row))


def runs_of(store: Store, **where) -> list[Deploy]:
    """Runs as every reader shows them (a dead runner's run reads `interrupted`)."""
    return [run_rows.deploy_from_row(r, effective_status(r))
            for r in run_rows.list_runs(store, **where)]


def show_run(ctx: Context, key: str) -> Deploy:
    with ctx.reading() as store:
        return get_run(store, key)


def list_runs(ctx: Context, env: str | None = None, hotfix: str | None = None,
              limit: int | None = 200) -> list[Deploy]:
    if env and ctx.config.environments:
        ctx.config.env(env)
    with ctx.reading() as store:
        hotfix_id = records.hotfix_row(store, hotfix)["id"] if hotfix else None
        return runs_of(store, env=env, hotfix_id=hotfix_id, limit=limit)


def run_log(ctx: Context, key: str, after_seq: int = 0, limit: int = 1_000_000
            ) -> list[LogLine]:
    with ctx.reading() as store:
        row = run_rows.run_row(store, key)
        elsewhere(store, row)
        out: list[LogLine] = []
        while True:
            page = run_rows.read_lines(store, row["id"], after_seq, 5000)
            out.extend(page)
            if len(page) < 5000 or len(out) >= limit:
                return out
            after_seq = page[-1].seq


def elsewhere(store: Store, row) -> None:
    """A run fetched from another bastion (hotfix sync): its log stayed where it ran; say
    where, how long it is, and the hash to compare a copy with."""
    if not row["origin"] or not row["lines"] or run_rows.read_lines(store, row["id"], 0, 1):
        return
    host = f" (host {row['host']})" if row["host"] else ""
    raise NotFound(f"the log of {row['key']} stayed on site {row['origin']}{host}: "
                   f"{row['lines']} lines, sha256 {row['log_hash'] or 'unknown'}; run "
                   f"'hotfix log {row['key']}' there")


def run_lines(ctx: Context, key: str, first_seq: int, count: int) -> list[LogLine]:
    with ctx.reading() as store:
        row = run_rows.run_row(store, key)
        return run_rows.line_range(store, row["id"], first_seq, count)


def output_rate(ctx: Context, key: str, after_seq: int = 0) -> tuple[int, dict[int, int]]:
    """Lines written per second of the run (seconds since it started), for the lines
    after `after_seq`; with the last seq counted, so the next look starts there."""
    with ctx.reading() as store:
        row = run_rows.run_row(store, key)
        return run_rows.lines_per_second(store, row["id"], row["started_at"], after_seq)


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


def follow_log(ctx: Context, key: str, after_seq: int = 0,
               stop: threading.Event | None = None) -> Iterator[LogLine]:
    """The run's lines as they are written, until it ends (`hotfix log --follow`)."""
    run = show_run(ctx, key)
    return following.follow(str(ctx.db_path), _number(run.key), after_seq, stop=stop)


def wait_run(ctx: Context, key: str, timeout: float | None = None) -> Deploy:
    """Until the run ends (a dead runner counts: `interrupted`); TimeoutError after
    `timeout` seconds."""
    return launch.wait_finished(str(ctx.db_path), _number(key), timeout)


def _number(key: str) -> int:
    return int(str(key).split("-")[1])


# ---- cancel ------------------------------------------------------------------------

def cancel(ctx: Context, deploy_key: str, clear_survivors: str | None = None) -> Deploy:
    """Cancel a running run; or stop what an interrupted run's command left running; or
    try again to stop the processes a run's stop left (its survivors), or, with
    `clear_survivors` (a reason), forget them: they no longer hold the environment."""
    reason = None
    if clear_survivors is not None:
        reason = clean_text(clear_survivors, "reason")
        if not reason:
            raise ValidationError("--clear-survivors needs a reason (what became of them?)")
    with ctx.open(create=False) as store:
        reap_in(ctx, store)
        row = run_rows.run_row(store, deploy_key)
        blockers = (refusals.clear_survivors(row) if reason is not None
                    else refusals.cancel(store, row))
    if blockers:
        raise PolicyRefusal(f"cancel {row['key']}", blockers)
    now = ctx.now()
    with ctx.writing() as store:
        if reason is not None:
            with store.write():
                cancelling.clear_survivors(store, run_rows.run_row(store, row["id"]),
                                           ctx.actor, now, reason)
        elif row["status"] == str(RunStatus.RUNNING):
            cancelling.request_cancel(store, row["id"], ctx.actor, now)
        elif row["status"] == str(RunStatus.INTERRUPTED) and refusals.orphan_alive(store, row):
            _stop_orphan(ctx, store, row, now)
        else:
            _stop_survivors(ctx, store, row, now)
        release_worktree(ctx.repo.toplevel if ctx.repo else None,
                         run_rows.run_row(store, row["id"]))
    return show_run(ctx, row["key"])


def _stop_orphan(ctx: Context, store: Store, row, now: str) -> None:
    """The runner of `row` died, but what its command started did not: stop all of it."""
    blockers = refusals.cancel(store, row)  # again: someone may have stopped it meanwhile
    if blockers:
        raise PolicyRefusal(f"cancel {row['key']}", blockers)
    cancelling.check_may_signal(row)
    what, left = cancelling.stop_processes(row)
    with store.write():
        audit.append(store, ctx.actor, now, "deploy", row["key"], "deploy.orphan_stopped",
                     after={"env": row["env"], "what": what}, hotfix=row["hotfix_key"],
                     incident=incident_of(store, row))
        if left:
            record_survivors(store, row, [s.to_json() for s in left], now, ctx.actor,
                             incident_of(store, row))
    if left:
        raise HotfixError(_still_alive(row, left))


def _stop_survivors(ctx: Context, store: Store, row, now: str) -> None:
    left = cancelling.retry_survivors(store, row, ctx.actor, now)
    if left:
        raise HotfixError(_still_alive(row, left))


def _still_alive(row, left) -> str:
    names = "; ".join(str(s) for s in left)
    return (f"{row['key']}: still running after SIGKILL: {names}; it holds {row['env']} until "
            f"it is gone (stop it as its account or root, then hotfix cancel {row['key']}), "
            f"or clear it: hotfix cancel {row['key']} --clear-survivors REASON")
