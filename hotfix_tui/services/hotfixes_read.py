"""Reading hotfixes: list and show."""

from __future__ import annotations

from ..core.models import Hotfix, HotfixState
from ..core.workflow import parse_key
from ..store import records
from .context import Context


def _reap(ctx: Context) -> None:
    """A run whose runner died is recorded as interrupted by the next reader that sees it,
    so no hotfix shows `deploying` for a deploy nobody is running."""
    from .runs import reap_lost_runs

    with ctx.open(create=False) as store:
        if not store.readonly and store.path != ":memory:" and not ctx.readonly:
            reap_lost_runs(store, ctx.actor)


def list_hotfixes(ctx: Context, state: str | None = None,
                  incident: str | None = None) -> list[Hotfix]:
    if state is not None:
        HotfixState(state)
    _reap(ctx)
    with ctx.reading() as store:
        if incident is not None:
            records.incident_row(store, incident)
        return records.list_hotfixes(store, state=state, incident=incident)


def get_hotfix(ctx: Context, key: str) -> Hotfix:
    parse_key(key, "HF")
    _reap(ctx)
    with ctx.reading() as store:
        return records.get_hotfix(store, key)
