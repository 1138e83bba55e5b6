"""Opening and updating incidents from what alerting tools send."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.alerts import FIRING, AlertRecord, parse_payload
from ..core.errors import ValidationError
from ..core.models import IncidentStatus
from ..store import audit, records
from ..store.db import Store
from .context import Context

MAX_BYTES = 16 * 1024 * 1024

CREATED, UPDATED, RESOLVED, REOPENED, UNCHANGED, SKIPPED = (
    "created", "updated", "resolved", "reopened", "unchanged", "skipped")


@dataclass(frozen=True)
class ImportedAlert:
    """What importing one alert did to the incidents."""

    outcome: str  # created | updated | resolved | reopened | unchanged | skipped
    incident: str | None
    alert: AlertRecord
    changes: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "incident": self.incident, **self.alert.to_json(),
                "changes": self.changes, "note": self.alert.note or None}


@dataclass(frozen=True)
class ImportResult:
    """What importing a batch of alerts did."""

    items: tuple[ImportedAlert, ...]

    def count(self, outcome: str) -> int:
        return sum(1 for i in self.items if i.outcome == outcome)

    def to_json(self) -> dict[str, Any]:
        counts = {o: self.count(o) for o in (CREATED, UPDATED, RESOLVED, REOPENED, UNCHANGED,
                                             SKIPPED)}
        return {"counts": counts, "items": [i.to_json() for i in self.items]}


def read_payload(path: str) -> str:
    """The file's text (`-` reads standard input); a problem is one line."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            p = Path(path)
            if p.is_dir():
                raise ValidationError(f"{path} is a directory")
            with p.open("rb") as f:
                data = f.read(MAX_BYTES + 1)
    except FileNotFoundError as exc:
        raise ValidationError(f"no such file: {path}") from exc
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_BYTES:
        raise ValidationError(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path} is not UTF-8 text") from exc


def import_incidents(ctx: Context, path: str) -> ImportResult:
    """Open, update or resolve one incident per alert, all in one transaction.

    Idempotent: incidents are found again by fingerprint, so a payload imported twice
    changes nothing the second time."""
    text = read_payload(path)
    try:
        alerts = parse_payload(text, ctx.config.incidents.severity_map)
    except ValidationError as exc:
        raise ValidationError(f"{path}: {exc}") from exc
    now = ctx.now()
    out: list[ImportedAlert] = []
    if not alerts:
        return ImportResult(())
    with ctx.writing() as store, store.write():
        for alert in alerts:
            out.append(_apply(ctx, store, alert, now))
    return ImportResult(tuple(out))


def _apply(ctx: Context, store: Store, alert: AlertRecord, now: str) -> ImportedAlert:
    row = store.one("SELECT * FROM incidents WHERE fingerprint = ?", (alert.fingerprint,))
    extra = {"source": alert.source, "fingerprint": alert.fingerprint}
    if row is None:
        if alert.status != FIRING:
            return ImportedAlert(SKIPPED, None, alert)
        inc = records.insert_incident(store, {
            "title": alert.title, "severity": alert.severity,
            "status": str(IncidentStatus.OPEN), "service": alert.service,
            "commander": ctx.actor.name, "opened_by": ctx.actor.name,
            "opened_by_verified": int(ctx.actor.verified), "opened_at": now,
            "source": alert.source, "fingerprint": alert.fingerprint,
        })
        audit.append(store, ctx.actor, now, "incident", inc.key, "incident.opened",
                     after=inc.to_json(), incident=inc.key, **extra,
                     note=alert.note or None)
        return ImportedAlert(CREATED, inc.key, alert)
    key = row["key"]
    status = IncidentStatus(row["status"])
    if alert.status != FIRING:
        if status is IncidentStatus.RESOLVED:
            return ImportedAlert(UNCHANGED, key, alert)
        store.update("incidents", row["id"], {"status": str(IncidentStatus.RESOLVED),
                                              "resolved_at": now})
        audit.append(store, ctx.actor, now, "incident", key, "incident.resolved",
                     before={"status": str(status)}, after={"status": "resolved"},
                     incident=key, **extra)
        return ImportedAlert(RESOLVED, key, alert, {"status": "resolved"})
    changes = {k: v for k, v in (("title", alert.title), ("severity", alert.severity),
                                 ("service", alert.service)) if row[k] != v and v != ""}
    if changes:
        store.update("incidents", row["id"], changes)
        audit.append(store, ctx.actor, now, "incident", key, "incident.updated",
                     before={k: row[k] for k in changes}, after=changes, incident=key,
                     **extra)
    if status is IncidentStatus.RESOLVED:
        # The same alert firing again: the problem is back.
        store.update("incidents", row["id"], {"status": str(IncidentStatus.OPEN),
                                              "mitigated_at": None, "resolved_at": None})
        audit.append(store, ctx.actor, now, "incident", key, "incident.open",
                     before={"status": str(status)}, after={"status": "open"}, incident=key,
                     **extra)
        return ImportedAlert(REOPENED, key, alert, {**changes, "status": "open"})
    return ImportedAlert(UPDATED if changes else UNCHANGED, key, alert, changes)
