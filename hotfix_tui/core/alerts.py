"""Incidents from alerting tools: the payload shapes `hotfix incident import` reads.

Two shapes are understood:

- an Alertmanager webhook payload: `{"alerts": [{"status": "firing" | "resolved",
  "labels": {"alertname", "severity", "service", …}, "annotations": {…},
  "fingerprint": …}, …]}`;
- a plain list: `[{"title", "severity", "service", "status"?}, …]`.

Each alert becomes an `AlertRecord` with a stable fingerprint, so importing the
same payload twice finds the incidents the first import opened. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .errors import ValidationError
from .sanitize import refuse
from .workflow import NAME_MAX, TEXT_MAX, TITLE_MAX

FIRING = "firing"
RESOLVED = "resolved"
# When the severity is missing or unknown, pick the worst: SEV1 (the domain's rule).
UNKNOWN_SEVERITY = 1
MAX_ALERTS = 10_000


@dataclass(frozen=True)
class AlertRecord:
    """One alert as the alert source sent it, reduced to what an incident needs."""

    fingerprint: str
    source: str  # "alertmanager" | "import"
    status: str  # FIRING | RESOLVED
    title: str
    severity: int
    service: str
    note: str = ""  # e.g. how an unknown severity was read

    def to_json(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "source": self.source, "status": self.status,
                "title": self.title, "severity": self.severity, "service": self.service or None}


def parse_payload(text: str, severity_map: dict[str, int]) -> list[AlertRecord]:
    """Every alert in `text` (JSON), in order; ValidationError names what is wrong."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"not valid JSON: {exc}") from exc
    if isinstance(data, dict) and "alerts" in data:
        alerts = data["alerts"]
        if not isinstance(alerts, list):
            raise ValidationError("alerts must be a list")
        _check_count(alerts)
        return [_alertmanager(a, i, severity_map) for i, a in enumerate(alerts)]
    if isinstance(data, list):
        _check_count(data)
        return [_plain(item, i, severity_map) for i, item in enumerate(data)]
    raise ValidationError('expected an Alertmanager payload ({"alerts": [...]}) or a list '
                          'of {"title", "severity", "service"}')


def _check_count(items: list) -> None:
    if len(items) > MAX_ALERTS:
        raise ValidationError(f"{len(items)} alerts; the limit is {MAX_ALERTS}")


def _text(value: Any, where: str, what: str, limit: int, required: bool = False,
          numbers: bool = False) -> str:
    """A string field, checked like the same field typed at `incident open`: control and
    invisible characters and over-long text are refused, never cut or cleaned silently."""
    if value is None:
        value = ""
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValidationError(f"{where}: {what} must be a string, not {_kind(value)}")
    refuse(value, f"{where}: {what}", keep="\n\t")
    text = " ".join(value.split())
    if required and not text:
        raise ValidationError(f"{where}: {what} is missing")
    if len(text) > limit:
        raise ValidationError(f"{where}: {what} is {len(text)} characters long; the limit "
                              f"is {limit}")
    return text


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    return {list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _shortened(text: str, limit: int) -> tuple[str, str]:
    """Text made to fit `limit`, and a note saying so when it had to be cut."""
    if len(text) <= limit:
        return text, ""
    return text[: limit - 1] + "…", f"title shortened from {len(text)} characters"


def severity_of(value: Any, severity_map: dict[str, int]) -> tuple[int, str]:
    """(severity 1-4, note): mapped through [incidents] severity_map; 1-4 and SEV1-SEV4
    are read as they are; a number outside 1-4 is refused (as `incident open --sev`
    refuses it); any other word is SEV1 (when unsure, pick the higher)."""
    if isinstance(value, bool) or not isinstance(value, str | int | None):
        raise ValidationError(f"severity must be 1-4, SEV1-SEV4 or a word of "
                              f"[incidents] severity_map, not {_kind(value)}")
    if isinstance(value, int):
        if 1 <= value <= 4:
            return value, ""
        raise ValidationError(f"severity {value!r} is out of range: 1-4 (SEV1 is the worst)")
    raw = str(value if value is not None else "").strip().lower()
    if raw in severity_map:
        return severity_map[raw], ""
    digits = raw.removeprefix("sev").strip()
    if digits.isdigit() and digits.isascii():
        if 1 <= int(digits) <= 4:
            return int(digits), ""
        raise ValidationError(f"severity {value!r} is out of range: 1-4 (SEV1 is the worst)")
    if not raw:
        return UNKNOWN_SEVERITY, "no severity given: SEV1"
    return UNKNOWN_SEVERITY, f"unknown severity {raw[:20]!r}: SEV1"


def _severity(value: Any, severity_map: dict[str, int], where: str) -> tuple[int, str]:
    try:
        return severity_of(value, severity_map)
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc}") from exc


def _status(value: Any, where: str) -> str:
    status = str(value or FIRING).strip().lower()
    if status not in (FIRING, RESOLVED):
        raise ValidationError(f"{where}: status must be firing or resolved, not {status[:20]!r}")
    return status


def _alertmanager(alert: Any, i: int, severity_map: dict[str, int]) -> AlertRecord:
    where = f"alerts[{i}]"
    if not isinstance(alert, dict):
        raise ValidationError(f"{where} must be an object")
    labels = alert.get("labels")
    annotations = alert.get("annotations") or {}
    if not isinstance(labels, dict):
        raise ValidationError(f"{where}: labels must be an object")
    if not isinstance(annotations, dict):
        raise ValidationError(f"{where}: annotations must be an object")
    name = _text(labels.get("alertname"), where, "labels.alertname", TITLE_MAX, required=True)
    # An annotation is prose a rule writes, often long: the title shows its start, and the
    # result says so (the alert name, which identifies the alert, is never cut).
    summary = _text(annotations.get("summary") or annotations.get("description"), where,
                    "annotations.summary", TEXT_MAX)
    title, cut = _shortened(f"{name}: {summary}" if summary else name, TITLE_MAX)
    service = _text(labels.get("service") or labels.get("job"), where, "labels.service",
                    NAME_MAX)
    severity, note = _severity(labels.get("severity"), severity_map, where)
    note = "; ".join(n for n in (note, cut) if n)
    fp = alert.get("fingerprint")
    if fp is None or fp == "":
        canon = json.dumps({str(k): str(v) for k, v in labels.items()}, sort_keys=True)
        fp = hashlib.sha256(canon.encode("utf-8")).hexdigest()[:16]
    fp = _text(fp, where, "fingerprint", 128, required=True, numbers=True)
    return AlertRecord(f"alertmanager:{fp}", "alertmanager", _status(alert.get("status"), where),
                       title, severity, service, note)


def _plain(item: Any, i: int, severity_map: dict[str, int]) -> AlertRecord:
    where = f"item {i}"
    if not isinstance(item, dict):
        raise ValidationError(f"{where} must be an object with title, severity and service")
    title = _text(item.get("title"), where, "title", TITLE_MAX, required=True)
    service = _text(item.get("service"), where, "service", NAME_MAX)
    severity, note = _severity(item.get("severity"), severity_map, where)
    digest = hashlib.sha256(f"{title.lower()}\0{service.lower()}".encode()).hexdigest()[:16]
    return AlertRecord(f"import:{digest}", "import", _status(item.get("status"), where),
                       title, severity, service, note)
