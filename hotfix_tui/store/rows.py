"""Rows in, core models out: one mapping for every table."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

from ..core.models import HotfixState, IncidentStatus, RunKind, RunStatus, VerificationState

T = TypeVar("T")

# How a column becomes a field of the declared type (the rest are taken as they are).
_CONVERT = {"bool": bool, "IncidentStatus": IncidentStatus, "HotfixState": HotfixState,
            "RunKind": RunKind, "RunStatus": RunStatus,
            "VerificationState": VerificationState}

# (class, renames, the row's columns, the given names) → ((field, column index, convert)
# for each field read from the row, the given names that are fields): worked out once,
# not for every row of a page.
_Plan = tuple[list[tuple[str, int, Callable[[Any], Any] | None]], frozenset[str]]
_PLANS: dict[tuple, _Plan] = {}


_NONE: dict[str, str] = {}


def _plan(cls: type, renames: dict[str, str], columns: tuple[str, ...],
          given: frozenset[str]) -> _Plan:
    key = (cls, tuple(renames.items()) if renames else (), columns, given)
    plan = _PLANS.get(key)
    if plan is None:
        index: dict[str, int] = {}
        for i, c in enumerate(columns):
            index.setdefault(c, i)  # as row[name] does: the first column of that name
        names = fields(cls)  # type: ignore[arg-type]
        plan = ([(f.name, index[renames.get(f.name, f.name)], _CONVERT.get(str(f.type)))
                 for f in names if f.name not in given
                 and renames.get(f.name, f.name) in index],
                given & {f.name for f in names})
        if len(_PLANS) < 1024:  # a handful of shapes in practice; never unbounded
            _PLANS[key] = plan
    return plan


def from_row(cls: type[T], row: sqlite3.Row, renames: dict[str, str] | None = None,
             **given: Any) -> T:
    """A `cls` dataclass from `row`: each field from the column of its name (or the one
    `renames` names), converted to its declared type; `given` values win; a field with no
    column keeps its default."""
    plan, taken = _plan(cls, renames or _NONE, tuple(row.keys()), frozenset(given))
    values: dict[str, Any] = {}
    for name, i, convert in plan:
        value = row[i]
        values[name] = convert(value) if convert is not None else value
    for name in taken:
        values[name] = given[name]
    return cls(**values)
