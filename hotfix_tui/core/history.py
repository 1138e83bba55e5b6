"""The history browser's query language: `state:deployed author:alice env:production
after:2026-01-01 before:2026-02-01 inc:INC-3 gift card` (free words are full-text)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from .errors import ValidationError
from .models import HotfixState
from .workflow import parse_key

_KEYS = {"state": "state", "author": "author", "by": "author", "env": "env",
         "inc": "incident", "incident": "incident", "after": "after", "since": "after",
         "before": "before", "until": "before"}
_TOKEN = re.compile(r'(\w+):("[^"]*"|\S+)|"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class HistoryQuery:
    """A history search, parsed: its words and its `state:`, `author:`… filters."""

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


_SPAN = re.compile(r"^(\d{1,6})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime) -> str:
    """`--since`: a day (`2026-03-01`), a UTC time (`2026-03-01T14:00`) or a span back
    from `now` (`90m`, `36h`, `7d`, `2w`), as the timestamp prefix rows compare against."""
    raw = (text or "").strip()
    m = _SPAN.match(raw)
    if m:
        at = now.astimezone(UTC) - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    else:
        try:
            if len(raw) == 10:
                return date.fromisoformat(raw).isoformat()
            at = datetime.fromisoformat(raw.removesuffix("Z"))
        except ValueError as exc:
            raise ValidationError(f"--since: {text!r} is not a date (YYYY-MM-DD), a UTC time "
                                  "(YYYY-MM-DDTHH:MM) or a span (30m, 12h, 7d, 2w)") from exc
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
