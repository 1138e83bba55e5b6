"""Runs (deploy, verify, rollback) as the faces see them: read, follow, wait for, cancel.

What a run's end means is decided below, in deploy.lifecycle; starting one is in
runstart.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from ..core.errors import PolicyRefusal
from ..core.models import Deploy, LogLine, RunStatus
from ..deploy import cancel as cancelling
from ..deploy import follow as following
from ..deploy import launch
from ..deploy.lifecycle import effective_status, incident_of, reap_lost_runs
from ..deploy.procgroup import stop_lost_group
from ..store import audit, records
from ..store import runs as run_rows
from ..store.db import Store
from . import refusals
from .context import Context


def reap_in(ctx: Context, store: Store) -> list[str]:
    """reap_lost_runs as `ctx.actor`, unless this context only browses (ctx.readonly)."""
    return [] if ctx.readonly else reap_lost_runs(store, ctx.actor)


def reap(ctx: Context) -> list[str]:
    """Open the database and record every run whose runner is gone as interrupted, so no
    reader shows a hotfix `deploying` for a deploy nobody is running."""
    with ctx.open(create=False) as store:
        return reap_in(ctx, store)


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
        out: list[LogLine] = []
        while True:
            page = run_rows.read_lines(store, row["id"], after_seq, 5000)
            out.extend(page)
            if len(page) < 5000 or len(out) >= limit:
                return out
            after_seq = page[-1].seq


def run_lines(ctx: Context, key: str, first_seq: int, count: int) -> list[LogLine]:
    with ctx.reading() as store:
        row = run_rows.run_row(store, key)
        return run_rows.line_range(store, row["id"], first_seq, count)


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

def cancel(ctx: Context, deploy_key: str) -> Deploy:
    """Cancel a running run; or stop what an interrupted run's command left running."""
    with ctx.open(create=False) as store:
        reap_in(ctx, store)
        row = run_rows.run_row(store, deploy_key)
        blockers = refusals.cancel(store, row)
    if blockers:
        raise PolicyRefusal(f"cancel {row['key']}", blockers)
    now = ctx.now()
    with ctx.writing() as store:
        if row["status"] == str(RunStatus.INTERRUPTED):
            _stop_orphan(ctx, store, row, now)
        else:
            cancelling.request_cancel(store, row["id"], ctx.actor, now)
    return show_run(ctx, row["key"])


def _stop_orphan(ctx: Context, store: Store, row, now: str) -> None:
    """The runner of `row` died, but its command did not: stop the command's group."""
    blockers = refusals.cancel(store, row)  # again: someone may have stopped it meanwhile
    if blockers:
        raise PolicyRefusal(f"cancel {row['key']}", blockers)
    cancelling.check_may_signal(row["key"], row["pgid"])
    what = stop_lost_group(row["pgid"], float(row["cancel_grace_s"]))
    with store.write():
        audit.append(store, ctx.actor, now, "deploy", row["key"], "deploy.orphan_stopped",
                     after={"env": row["env"], "what": what}, hotfix=row["hotfix_key"],
                     incident=incident_of(store, row))
