"""Typed messages: workers post them, screens and the app react. Each says what happened.

Screens never import each other: to show another screen they post one of the
navigation messages below, and the app (navigation.py) opens it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from ..services.changes import Changes


@dataclass
class DataChanged(Message):
    """Another connection committed to the database (another engineer, the CLI, a
    runner): the new version and the audit events it added."""

    changes: Changes

    @property
    def version(self) -> int:
        return self.changes.version


@dataclass
class Activity(Message):
    """New audit events since the console last looked (for the toasts)."""

    events: tuple[Any, ...]


@dataclass
class Loaded(Message):
    """A screen's data arrived from a worker."""

    what: str
    data: Any


@dataclass
class ActionDone(Message):
    """A change requested from the console finished (ok) or was refused (error). `after`
    runs with `data` once it is shown; `hold` (keys wait for it: typeahead.py) is
    released then; `plural` says how several of these read as one toast."""

    what: str
    ok: bool
    message: str
    data: Any = None
    after: Any = None
    hold: Any = None
    plural: str = ""


# ---- navigation -------------------------------------------------------------------------

@dataclass
class OpenHotfix(Message):
    """Show one hotfix (read-only from the history browser)."""

    key: str
    readonly: bool | None = None


@dataclass
class HotfixStarted(Message):
    """A hotfix was just started: show it, with its commit picker on top."""

    key: str


@dataclass
class OpenIncident(Message):
    """Open an incident's screen."""

    key: str


@dataclass
class StartHotfix(Message):
    """Start a hotfix for an incident."""

    incident: str


@dataclass
class PickCommits(Message):
    """Open the pick list for a hotfix."""

    key: str


@dataclass
class OpenRun(Message):
    """Show a run's live (or finished) log: the deploy pane."""

    key: str


class OpenReviewQueue(Message):
    pass


class OpenHistory(Message):
    pass
