"""Audit use cases."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from ..core.errors import HotfixError
from ..store import audit, records
from . import signatures
from .context import Context


@dataclass(frozen=True)
class AuditReport:
    """The chain recomputed, and every signed decision verified again."""

    chain: audit.VerifyResult
    signatures: signatures.SignatureAudit

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.signatures.bad

    def to_json(self) -> dict[str, Any]:
        return {**self.chain.to_json(), "ok": self.ok,
                "signatures": self.signatures.to_json()}


def verify_audit(ctx: Context) -> AuditReport:
    """Recompute the chain and re-verify every signature. A break of the chain is itself
    recorded (once per break, where the database is writable), so that hooks and
    watchers hear of it."""
    with ctx.reading() as store:
        result = audit.verify(store)
        hotfixes = records.list_hotfixes(store)
    if not result.ok and not ctx.readonly:
        with contextlib.suppress(HotfixError):  # read-only: the command still reports it
            _record_failure(ctx, result)
    return AuditReport(result, signatures.audit_signatures(ctx, hotfixes))


def _record_failure(ctx: Context, result: audit.VerifyResult) -> None:
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
