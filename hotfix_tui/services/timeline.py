"""An incident's timeline: every audit event of the incident and of its hotfixes."""

from __future__ import annotations

from ..core.models import AuditEvent
from ..store import audit, records
from ..store.db import Store
from .context import Context


def incident_events(store: Store, incident_key: str, hotfix: str | None = None
                    ) -> list[AuditEvent]:
    """Events of the incident itself and of its hotfixes (only `hotfix`, if given), in
    the order they happened (the audit chain's order)."""
    inc = records.incident_row(store, incident_key)
    keys = [r["key"] for r in store.all("SELECT key FROM hotfixes WHERE incident_id = ?",
                                        (inc["id"],))]
    if hotfix is not None:
        keys = [k for k in keys if k == hotfix]
    marks = ", ".join("?" for _ in keys) or "NULL"
    if hotfix is None:
        where = f"incident = ? OR hotfix IN ({marks})"
    else:
        where = f"(incident = ? AND hotfix IS NULL) OR hotfix IN ({marks})"
    rows = store.all(f"SELECT * FROM audit_events WHERE {where} ORDER BY id",
                     (inc["key"], *keys))
    return [audit._event(r) for r in rows]


def timeline(ctx: Context, incident: str) -> list[AuditEvent]:
    """Every event of an incident and its hotfixes, oldest first (notes included)."""
    with ctx.reading() as store:
        return incident_events(store, incident)
