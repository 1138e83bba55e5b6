"""What the user should hear once about a change that succeeded (a decision recorded
unsigned, and why); both faces drain it after each service call."""

from __future__ import annotations

_NOTES: list[str] = []


def say(note: str) -> None:
    if note and note not in _NOTES:
        _NOTES.append(note)


def take() -> list[str]:
    out = list(_NOTES)
    _NOTES.clear()
    return out
