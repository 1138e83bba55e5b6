"""Audit events as one readable line each: core.timeline's words, in the console's colours."""

from __future__ import annotations

from rich.text import Text

from ...core.timeline import LOUD_ACTIONS, NOTE_ACTIONS
from ...core.timeline import describe as describe_event
from .common import clean

TONE_STYLE = {"": "", "good": "green", "bad": "red", "warn": "yellow"}


def describe(ev) -> Text:
    text, tone = describe_event(ev)
    style = TONE_STYLE.get(tone, "")
    if ev.action in LOUD_ACTIONS:
        style = f"bold {style}".strip()
    elif ev.action in NOTE_ACTIONS:
        style = "italic"
    return Text(clean(text), style=style)
