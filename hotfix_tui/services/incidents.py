"""Incident use cases: open, list, show, mitigate, resolve, reassign, note."""

from __future__ import annotations

from ..core.errors import PolicyRefusal, ValidationError
from ..core.models import AuditEvent, Incident, IncidentStatus
from ..core.workflow import (
    check_incident_transition,
    check_severity,
    clean_name,
    clean_text,
    clean_title,
)
from ..store import audit, records
from . import refusals
from .context import Context
from .usecase import change, look


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
    look(ctx, incident=key)  # unknown key: refuse before creating anything
    with change(ctx, incident=key) as c:
        before = records.incident_from_row(c.row)
        blockers = refusals.incident_status(before, status)
        if blockers:
            raise PolicyRefusal(f"{refusals.INCIDENT_VERBS[status]} {before.key}", blockers)
        check_incident_transition(before.key, before.status, status)
        values: dict = {"status": str(status)}
        if status in _STATUS_COLUMN:
            values[_STATUS_COLUMN[status]] = c.now
        if status is IncidentStatus.OPEN:
            values.update(mitigated_at=None, resolved_at=None)
        c.store.update("incidents", before.number, values)
        after = records.get_incident(c.store, key)
        c.audit(f"incident.{status}", before={"status": str(before.status)},
                after={"status": str(after.status)})
    return after


def assign_commander(ctx: Context, key: str, commander: str) -> Incident:
    commander = clean_name(commander, "commander")
    if not commander:
        raise ValidationError("commander must not be empty")
    look(ctx, incident=key)
    with change(ctx, incident=key) as c:
        before = records.incident_from_row(c.row)
        c.store.update("incidents", before.number, {"commander": commander})
        c.audit("incident.commander", before={"commander": before.commander},
                after={"commander": commander})
        return records.get_incident(c.store, key)


def add_note(ctx: Context, key: str, text: str) -> AuditEvent:
    text = clean_text(text, "note")
    if not text:
        raise ValidationError("note must not be empty")
    look(ctx, incident=key)
    with change(ctx, incident=key) as c:
        ev = c.audit("incident.note", after={"text": text})
    return ev
