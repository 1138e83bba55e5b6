"""Incident use cases: open, list, show, mitigate, resolve, reassign, note."""

from __future__ import annotations

from ..core.errors import ValidationError
from ..core.models import AuditEvent, Incident, IncidentStatus
from ..core.workflow import (
    check_incident_transition,
    check_severity,
    clean_name,
    clean_text,
    clean_title,
)
from ..store import audit, records
from .context import Context


def open_incident(ctx: Context, title: str, severity: int, service: str = "",
                  commander: str = "") -> Incident:
    title = clean_title(title)
    severity = check_severity(severity)
    service = clean_name(service, "service")
    commander = clean_name(commander, "commander") or ctx.actor.name
    now = ctx.now()
    with ctx.writing() as store, store.write():
        inc = records.insert_incident(store, {
            "title": title,
            "severity": severity,
            "status": str(IncidentStatus.OPEN),
            "service": service,
            "commander": commander,
            "opened_by": ctx.actor.name,
            "opened_by_verified": int(ctx.actor.verified),
            "opened_at": now,
        })
        audit.append(store, ctx.actor, now, "incident", inc.key, "incident.opened",
                     after=inc.to_json(), incident=inc.key)
    return inc


def list_incidents(ctx: Context, include_resolved: bool = False) -> list[Incident]:
    with ctx.reading() as store:
        return records.list_incidents(store, include_resolved)


def get_incident(ctx: Context, key: str) -> Incident:
    with ctx.reading() as store:
        return records.get_incident(store, key)


_STATUS_COLUMN = {
    IncidentStatus.MITIGATED: "mitigated_at",
    IncidentStatus.RESOLVED: "resolved_at",
}


def set_incident_status(ctx: Context, key: str, status: IncidentStatus) -> Incident:
    status = IncidentStatus(status)
    with ctx.reading() as store:
        records.incident_row(store, key)  # unknown key: refuse before creating anything
    now = ctx.now()
    with ctx.writing() as store, store.write():
        before = records.get_incident(store, key)
        check_incident_transition(before.key, before.status, status)
        values: dict = {"status": str(status)}
        if status in _STATUS_COLUMN:
            values[_STATUS_COLUMN[status]] = now
        if status is IncidentStatus.OPEN:
            values.update(mitigated_at=None, resolved_at=None)
        store.update("incidents", before.number, values)
        after = records.get_incident(store, key)
        audit.append(store, ctx.actor, now, "incident", after.key, f"incident.{status}",
                     before={"status": str(before.status)},
                     after={"status": str(after.status)}, incident=after.key)
    return after


def assign_commander(ctx: Context, key: str, commander: str) -> Incident:
    commander = clean_name(commander, "commander")
    if not commander:
        raise ValidationError("commander must not be empty")
    with ctx.reading() as store:
        records.incident_row(store, key)
    now = ctx.now()
    with ctx.writing() as store, store.write():
        before = records.get_incident(store, key)
        store.update("incidents", before.number, {"commander": commander})
        audit.append(store, ctx.actor, now, "incident", before.key, "incident.commander",
                     before={"commander": before.commander},
                     after={"commander": commander}, incident=before.key)
        return records.get_incident(store, key)


def add_note(ctx: Context, key: str, text: str) -> AuditEvent:
    text = clean_text(text, "note")
    if not text:
        raise ValidationError("note must not be empty")
    with ctx.reading() as store:
        records.incident_row(store, key)
    now = ctx.now()
    with ctx.writing() as store, store.write():
        inc = records.get_incident(store, key)
        ev = audit.append(store, ctx.actor, now, "incident", inc.key, "incident.note",
                          after={"text": text}, incident=inc.key)
    return ev
