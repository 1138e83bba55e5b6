"""Reading hotfixes: list and show."""

from __future__ import annotations

from ..core.models import Hotfix, HotfixState
from ..core.workflow import parse_key
from ..store import records
from .context import Context
from .reaping import reap


def list_hotfixes(ctx: Context, state: str | None = None,
                  incident: str | None = None) -> list[Hotfix]:
    if state is not None:
        HotfixState(state)
    reap(ctx)
    with ctx.reading() as store:
        if incident is not None:
            records.incident_row(store, incident)
        return records.list_hotfixes(store, state=state, incident=incident,
                                      policy=ctx.approval_policy)


def get_hotfix(ctx: Context, key: str) -> Hotfix:
    parse_key(key, "HF")
    reap(ctx)
    with ctx.reading() as store:
        return records.get_hotfix(store, key, policy=ctx.approval_policy)
