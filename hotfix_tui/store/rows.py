"""Rows in, core models out: one mapping for every table."""

from __future__ import annotations

import sqlite3
from dataclasses import fields
from typing import Any, TypeVar

from ..core.models import HotfixState, IncidentStatus, RunKind, RunStatus, VerificationState

T = TypeVar("T")

# How a column becomes a field of the declared type (the rest are taken as they are).
_CONVERT = {"bool": bool, "IncidentStatus": IncidentStatus, "HotfixState": HotfixState,
            "RunKind": RunKind, "RunStatus": RunStatus,
            "VerificationState": VerificationState}


def from_row(cls: type[T], row: sqlite3.Row, renames: dict[str, str] | None = None,
             **given: Any) -> T:
    """A `cls` dataclass from `row`: each field from the column of its name (or the one
    `renames` names), converted to its declared type; `given` values win; a field with no
    column keeps its default."""
    columns = set(row.keys())
    renames = renames or {}
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in given:
            values[f.name] = given[f.name]
            continue
        column = renames.get(f.name, f.name)
        if column in columns:
            value = row[column]
            convert = _CONVERT.get(str(f.type))
            values[f.name] = convert(value) if convert is not None else value
    return cls(**values)
