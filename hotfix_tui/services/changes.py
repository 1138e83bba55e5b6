"""Noticing what other engineers (and the CLI, and runners) changed, as it happens.

SQLite's `PRAGMA data_version` changes only when another connection commits, so a
cheap poll of it tells a long-running console when to look again; the audit events
added since say what changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..core.models import AuditEvent
from ..store import audit, open_store
from ..store.db import Store
from .context import Context

EVENTS_PER_LOOK = 200


@dataclass(frozen=True)
class Changes:
    """Another connection committed: the database's new version, and the audit events
    added since the last look (at most EVENTS_PER_LOOK; none on the first look)."""

    version: int
    events: tuple[AuditEvent, ...] = ()

    @property
    def hotfixes(self) -> frozenset[str]:
        return frozenset(e.hotfix for e in self.events if e.hotfix)

    @property
    def incidents(self) -> frozenset[str]:
        return frozenset(e.incident for e in self.events if e.incident)

    @property
    def runs(self) -> frozenset[str]:
        return frozenset(e.entity_key for e in self.events if e.entity == "deploy")

    @property
    def environments(self) -> frozenset[str]:
        named = {e.entity_key for e in self.events if e.entity == "environment"}
        return frozenset(named | {e.after["env"] for e in self.events
                                  if e.entity == "deploy" and e.after and e.after.get("env")})


class ChangeWatcher:
    """Polls one database for commits by other connections."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._store: Store | None = None
        self._version: int | None = None
        self._last_event: int | None = None  # events up to here are known

    def poll(self) -> Changes | None:
        """What changed since the last poll (None: nothing, or the database is not there
        yet, or busy: the next poll tries again)."""
        try:
            store = self._open()
            if store is None:
                return None
            version = store.data_version()
            if version == self._version:
                return None
            self._version = version
            new = audit.events(store, after_id=self._last_event or 0, limit=EVENTS_PER_LOOK)
            if new:
                self._last_event = new[-1].id
            return Changes(version, tuple(new))
        except Exception:  # a busy or vanished database: try again next time
            self.close()
            return None

    def note_start(self) -> None:
        """Take what the database holds now as known (what _open does on the first
        poll), without looking for changes yet: the first look then reports only what
        was committed since."""
        try:
            store = self._open()
            if store is not None:
                self._version = store.data_version()
        except Exception:  # busy or vanished: the first poll tries again
            self.close()

    def _open(self) -> Store | None:
        if self._store is not None and self._store.path != ":memory:":
            return self._store
        self.close()
        self._store = open_store(self.ctx.db_path, create=False, readonly=self.ctx.readonly)
        if self._store.path == ":memory:":  # no database yet: everything in it will be new
            if self._last_event is None:
                self._last_event = 0
            return None
        if self._last_event is None:  # what was there before we started is history
            self._last_event = self._store.scalar(
                "SELECT coalesce(max(id), 0) FROM audit_events") or 0
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        self._store = None


def watch_changes(ctx: Context, interval: float, cancelled: Callable[[], bool],
                  marked: Callable[[], None] | None = None,
                  ready: Callable[[], bool] | None = None, wait: float = 2.0,
                  looked: Callable[[], None] | None = None) -> Iterator[Changes]:
    """Every change to the database, until `cancelled()` (checked every 50 ms).
    `marked()` is called once the mark that divides history from news is taken (or no
    database was found, or it failed: never later than the first look). With `ready`,
    that mark is taken at once, but the first look waits until `ready()` (at most `wait`
    s): a console's first frame goes first. `looked()` is called once the first look
    and what it found have been handled."""
    watcher = ChangeWatcher(ctx)
    try:
        if ready is not None:
            watcher.note_start()
            if marked is not None:
                marked()
                marked = None
            deadline = time.monotonic() + wait
            while not cancelled() and not ready() and time.monotonic() < deadline:
                time.sleep(0.02)
        while not cancelled():
            changes = watcher.poll()
            if marked is not None:
                marked()
                marked = None
            if changes is not None:
                yield changes
            if looked is not None:
                looked()
                looked = None
            deadline = time.monotonic() + interval
            while not cancelled() and time.monotonic() < deadline:
                time.sleep(min(0.05, interval))
    finally:
        watcher.close()
