"""Typed messages that workers post; screens update widgets when they arrive."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class DataChanged(Message):
    """Another connection committed to the database (another engineer, or the CLI)."""

    version: int


@dataclass
class Activity(Message):
    """New audit events since the console last looked."""

    events: list[Any]


@dataclass
class Loaded(Message):
    """A screen's data arrived from a worker."""

    what: str
    data: Any


@dataclass
class ActionDone(Message):
    """A change requested from the console finished (ok) or was refused (error)."""

    what: str
    ok: bool
    message: str
    data: Any = None
