"""The history browser's query language: `state:deployed author:alice env:production
after:2026-01-01 before:2026-02-01 inc:INC-3 gift card` (free words are full-text)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from .errors import ValidationError
from .models import HotfixState
from .workflow import parse_key

_KEYS = {"state": "state", "author": "author", "by": "author", "env": "env",
         "inc": "incident", "incident": "incident", "after": "after", "since": "after",
         "before": "before", "until": "before"}
_TOKEN = re.compile(r'(\w+):("[^"]*"|\S+)|"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class HistoryQuery:
    words: tuple[str, ...] = ()
    state: str | None = None
    author: str | None = None
    env: str | None = None
    incident: int | None = None
    after: str | None = None
    before: str | None = None
    unknown: tuple[str, ...] = field(default=())

    def fts(self) -> str | None:
        """An FTS5 MATCH expression: every word must appear (prefix match), quoted so
        that user text can never be read as FTS syntax."""
        if not self.words:
            return None
        return " ".join('"' + w.replace('"', '""') + '"*' for w in self.words)


def _day(text: str, what: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise ValidationError(f"{what}: {text!r} is not a date (YYYY-MM-DD)") from exc


def parse_history_query(text: str) -> HistoryQuery:
    values: dict = {}
    words: list[str] = []
    for m in _TOKEN.finditer(text or ""):
        key, value, quoted, word = m.groups()
        if key is not None and key.lower() in _KEYS:
            name = _KEYS[key.lower()]
            value = value.strip('"')
            if name == "state":
                if value not in {str(s) for s in HotfixState}:
                    raise ValidationError(f"state:{value} is not a hotfix state")
            elif name == "incident":
                value = parse_key(value, "INC")
            elif name in ("after", "before"):
                value = _day(value, name)
            values[name] = value
        elif key is not None:
            words.append(f"{key}:{value}")
        else:
            words.append(quoted if quoted is not None else word)
    words = [w for w in (w.strip() for w in words) if w]
    return HistoryQuery(words=tuple(words), **values)
