"""Use cases shared by the CLI and the console. Neither face touches SQLite or git directly."""

from .audit import verify_audit
from .context import Context, open_context
from .hotfixes_read import get_hotfix, list_hotfixes
from .incidents import (
    add_note,
    assign_commander,
    get_incident,
    list_incidents,
    open_incident,
    set_incident_status,
)

__all__ = [
    "Context",
    "add_note",
    "assign_commander",
    "get_hotfix",
    "get_incident",
    "list_hotfixes",
    "list_incidents",
    "open_context",
    "open_incident",
    "set_incident_status",
    "verify_audit",
]
