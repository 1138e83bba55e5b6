"""The outline every change follows: read, check, write, audit.

    row = look(ctx, hotfix=key, check=require_editable)   # refuse early, create nothing
    ...                                                   # git, plans: outside any lock
    with change(ctx, hotfix=key, check=require_editable) as c:
        c.store.execute(...)                              # the change
        c.audit("hotfix.edited", before=..., after=...)   # and its event, one transaction

`look` reads on a read-only connection, so a refused change never creates the database.
`change` opens one BEGIN IMMEDIATE transaction, reads the row again and checks it again
there (it may have moved on meanwhile), and `Change.audit` appends the event with the
actor, the time, and the incident and hotfix filled in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..core.models import AuditEvent, HotfixState
from ..core.workflow import check_hotfix_transition
from ..store import audit, records
from ..store.db import Store
from .context import Context

Check = Callable[[sqlite3.Row], None]


def _read(store: Store, hotfix: str | None, incident: str | None) -> sqlite3.Row | None:
    if hotfix is not None:
        return records.hotfix_row(store, hotfix)
    if incident is not None:
        return records.incident_row(store, incident)
    return None


def set_state(ctx: Context, store: Store, row, target: HotfixState, now: str,
              action: str = "hotfix.state", **extra: Any) -> None:
    """Move hotfix `row` to `target` (a legal transition) with its audit event; call
    inside store.write()."""
    current = HotfixState(row["state"])
    check_hotfix_transition(row["key"], current, target)
    store.execute("UPDATE hotfixes SET state = ?, updated_at = ? WHERE id = ?",
                  (str(target), now, row["id"]))
    audit.append(store, ctx.actor, now, "hotfix", row["key"], action,
                 before={"state": str(current)}, after={"state": str(target)},
                 incident=row["incident_key"], hotfix=row["key"], **extra)


def look(ctx: Context, *, hotfix: str | None = None, incident: str | None = None,
         check: Check | None = None) -> sqlite3.Row:
    """The hotfix's (or incident's) row, once `check` passed; raises NotFound for an
    unknown key."""
    with ctx.reading() as store:
        row = _read(store, hotfix, incident)
    if check is not None:
        check(row)
    return row


@dataclass
class Change:
    """One change in progress: its store (inside the transaction), time and row."""

    ctx: Context
    store: Store
    now: str
    row: sqlite3.Row | None
    entity: str

    def audit(self, action: str, *, entity: str | None = None, key: str | None = None,
              **fields: Any) -> AuditEvent:
        """Append this change's audit event (committed with the change)."""
        row = self.row
        if row is not None and self.entity == "hotfix":
            fields.setdefault("incident", row["incident_key"])
            fields.setdefault("hotfix", row["key"])
        elif row is not None:
            fields.setdefault("incident", row["key"])
        return audit.append(self.store, self.ctx.actor, self.now, entity or self.entity,
                            key or (row["key"] if row is not None else ""), action, **fields)

    def set_state(self, target: HotfixState, action: str = "hotfix.state",
                  **extra: Any) -> None:
        """Move the hotfix to `target` (a legal transition), with its event."""
        set_state(self.ctx, self.store, self.row, target, self.now, action, **extra)

    def reread(self) -> sqlite3.Row:
        """The row as this transaction has changed it."""
        self.row = _read(self.store, self.row["key"] if self.entity == "hotfix" else None,
                         self.row["key"] if self.entity == "incident" else None)
        return self.row


@contextmanager
def change(ctx: Context, *, hotfix: str | None = None, incident: str | None = None,
           check: Check | None = None, entity: str = "") -> Iterator[Change]:
    """One BEGIN IMMEDIATE transaction: the row read (and `check`ed) again inside it."""
    now = ctx.now()
    with ctx.writing() as store, store.write():
        row = _read(store, hotfix, incident)
        if check is not None:
            check(row)
        kind = entity or ("hotfix" if hotfix is not None else
                          "incident" if incident is not None else "")
        yield Change(ctx, store, now, row, kind)
