"""Recording every run whose runner is gone, before anything reads runs or hotfixes: no
reader shows a hotfix `deploying` for a deploy nobody is running.

Small on purpose: every read (`hotfix list`, `show`, `status`) loads it, and none of them
needs the code that starts, follows or cancels runs.
"""

from __future__ import annotations

from ..store.db import Store
from .context import Context


def reap_in(ctx: Context, store: Store) -> list[str]:
    """reap_lost_runs as `ctx.actor`, unless this context only browses (ctx.readonly)."""
    if ctx.readonly or not store.scalar(
            "SELECT EXISTS (SELECT 1 FROM deploys WHERE status = 'running')"):
        return []  # nothing runs (most reads): the run lifecycle is not even loaded
    from ..deploy.lifecycle import reap_lost_runs

    return reap_lost_runs(store, ctx.actor)


def reap(ctx: Context) -> list[str]:
    """Open the database and record every run whose runner is gone as interrupted."""
    with ctx.open(create=False) as store:
        return reap_in(ctx, store)
