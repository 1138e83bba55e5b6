"""Audit use cases."""

from __future__ import annotations

import contextlib
import json

from ..core.errors import HotfixError
from ..store import audit
from .context import Context
from .integrity import AuditReport, verify_all


def verify_audit(ctx: Context) -> AuditReport:
    """The chain, its anchor in the repository, and every record against it. A failure is
    itself recorded (once per problem, where the database is writable), so that hooks and
    watchers hear of it."""
    result = verify_all(ctx)
    if not result.ok and not ctx.readonly:
        with contextlib.suppress(HotfixError):  # read-only: the command still reports it
            _record_failure(ctx, result)
    return result


def _record_failure(ctx: Context, result: AuditReport) -> None:
    after = {"bad_seq": result.bad_id, "problem": result.problem,
             "events_checked": result.events}
    with ctx.open(create=False) as store:
        if store.readonly or store.path == ":memory:":
            return
        with store.write():
            for row in store.all("SELECT data FROM audit_events "
                                 "WHERE action = 'audit.verify_failed'"):
                known = json.loads(row["data"]).get("after") or {}
                if (known.get("bad_seq"), known.get("problem")) == (result.bad_id,
                                                                  result.problem):
                    return
            audit.append(store, ctx.actor, ctx.now(), "audit", "chain", "audit.verify_failed",
                         after=after)
