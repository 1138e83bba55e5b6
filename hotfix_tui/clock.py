"""Timestamps: ISO-8601 UTC with milliseconds and a Z, which also sort as text."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def age(text: str | None, now: datetime) -> str:
    """A compact age for tables: 45s, 12m, 3h, 2d."""
    if not text:
        return "-"
    seconds = max(0, int((now - parse_iso(text)).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m" if seconds < 36000 else \
            f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
