"""`hotfix incident …`"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from .. import services
from ..clock import age
from ..core.models import Incident, IncidentStatus, actor_label
from .common import SeverityType, emit, emit_items, get_ctx, json_option, out, safe, table
from .completers import complete_incident, complete_open_incident


def incident_text(inc: Incident) -> str:
    lines = [
        f"{inc.key}  {inc.sev_label}  {inc.status}  {safe(inc.title)}",
        f"  service:    {safe(inc.service) or '-'}",
        f"  commander:  {safe(inc.commander) or '-'}",
        f"  opened:     {inc.opened_at} by "
        f"{safe(actor_label(inc.opened_by, inc.opened_by_verified))}",
    ]
    if inc.mitigated_at:
        lines.append(f"  mitigated:  {inc.mitigated_at}")
    if inc.resolved_at:
        lines.append(f"  resolved:   {inc.resolved_at}")
    return "\n".join(lines)


@click.group("incident")
def incident() -> None:
    """Open, list and move incidents through open → mitigated → resolved."""


@incident.command("open")
@click.option("--title", required=True, help="What is broken, as users see it.")
@click.option("--sev", "severity", required=True, type=SeverityType(),
              help="1-4 or SEV1-SEV4; SEV1 is the worst. When unsure, pick the higher.")
@click.option("--service", default="", help="The affected service.")
@click.option("--commander", default="", help="Incident commander (default: you).")
@json_option
def open_cmd(title: str, severity: int, service: str, commander: str, as_json: bool) -> None:
    """Open an incident and print its key."""
    inc = services.open_incident(get_ctx(), title, severity, service, commander)
    if as_json:
        emit(inc.to_json())
    else:
        out(inc.key)


@incident.command("list")
@click.option("--all", "include_all", is_flag=True, help="Include resolved incidents.")
@json_option
def list_cmd(include_all: bool, as_json: bool) -> None:
    """Open and mitigated incidents (all with --all)."""
    items = services.list_incidents(get_ctx(), include_resolved=include_all)
    if as_json:
        emit_items([i.to_json() for i in items])
        return
    if not items:
        out("no incidents" if include_all else "no open incidents")
        return
    now = datetime.now(UTC)
    out(table(
        ["key", "sev", "status", "age", "service", "commander", "title"],
        [[i.key, i.sev_label, str(i.status), age(i.opened_at, now), i.service or "-",
          i.commander or "-", i.title] for i in items],
    ))


@incident.command("show")
@click.argument("key", shell_complete=complete_incident)
@json_option
def show_cmd(key: str, as_json: bool) -> None:
    """One incident."""
    inc = services.get_incident(get_ctx(), key)
    if as_json:
        emit(inc.to_json())
    else:
        out(incident_text(inc))


def _status_command(name: str, status: IncidentStatus, doc: str):
    @incident.command(name, help=doc)
    @click.argument("key", shell_complete=complete_incident)
    @json_option
    def cmd(key: str, as_json: bool) -> None:
        inc = services.set_incident_status(get_ctx(), key, status)
        if as_json:
            emit(inc.to_json())
        else:
            out(f"{inc.key} {inc.status}")

    return cmd


_status_command("mitigate", IncidentStatus.MITIGATED, "Mark an incident mitigated.")
_status_command("resolve", IncidentStatus.RESOLVED, "Mark an incident resolved.")
_status_command("reopen", IncidentStatus.OPEN, "Reopen a mitigated or resolved incident.")


@incident.command("assign")
@click.argument("key", shell_complete=complete_open_incident)
@click.option("--commander", required=True, help="The new incident commander.")
@json_option
def assign_cmd(key: str, commander: str, as_json: bool) -> None:
    """Hand the incident to a new commander (kept in the timeline)."""
    inc = services.assign_commander(get_ctx(), key, commander)
    if as_json:
        emit(inc.to_json())
    else:
        out(f"{inc.key} commander: {inc.commander}")


@incident.command("note")
@click.argument("key", shell_complete=complete_open_incident)
@click.argument("text")
@json_option
def note_cmd(key: str, text: str, as_json: bool) -> None:
    """Add the scribe's free-text entry to the incident timeline."""
    ev = services.add_note(get_ctx(), key, text)
    if as_json:
        from .release_cmd import event_json

        emit(event_json(ev))
    else:
        out(f"noted on {ev.entity_key}")


@incident.command("import")
@click.argument("file", metavar="FILE")
@json_option
def import_cmd(file: str, as_json: bool) -> None:
    """Open or update incidents from an Alertmanager webhook payload or a plain list of
    {title, severity, service} (FILE, or - for standard input). Safe to repeat."""
    result = services.import_incidents(get_ctx(), file)
    if as_json:
        emit(result.to_json())
        return
    for item in result.items:
        what = item.incident or "-"
        extra = f" ({safe(item.alert.note)})" if item.alert.note else ""
        out(f"{item.outcome:<9} {what:<8} SEV{item.alert.severity} "
            f"{safe(item.alert.title)}{extra}")
    counts = result.to_json()["counts"]
    out(", ".join(f"{n} {name}" for name, n in counts.items() if n) or "nothing to import")


def register(root: click.Group) -> None:
    root.add_command(incident)
