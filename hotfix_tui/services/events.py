"""Events for people and bots: watching them as they are committed, and their hooks.

Events are derived from the audit trail (core/events.py), so every process that
changes anything produces them without knowing about hooks or watchers.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator

from .. import hooks
from ..core import events as ev
from ..core.errors import HotfixError
from ..store import audit, open_store
from ..store import hooks as deliveries
from ..store.db import Store
from .context import Context

MIN_WAIT = 0.05  # seconds between looks right after an event…
MAX_WAIT = 0.4  # …growing to this while nothing happens
PAGE = 500


class EventTail:
    """Reads the events committed after a sequence number, as they come.

    It looks at `PRAGMA data_version` (it changes only when another connection commits)
    and reads the audit trail only then; a database that is missing, busy or replaced
    by a new file is opened again on the next look.
    """

    def __init__(self, db_path: str | os.PathLike, since: int | None = None,
                 incident: str | None = None) -> None:
        self.db_path = os.fspath(db_path)
        self.cursor = since  # None: from whatever is newest when the database is found
        self.incident = incident
        self._store: Store | None = None
        self._file: tuple[int, int] | None = None
        self._version: int | None = None
        self._more = False

    def poll(self) -> list[ev.Event]:
        """The events committed since the last look (empty: nothing new yet)."""
        try:
            store = self._open()
            if store is None:
                return []
            version = store.data_version()
            if version == self._version and not self._more:
                return []
            self._version = version
            rows = audit.events(store, incident=self.incident, after_id=self.cursor or 0,
                                limit=PAGE)
        except (sqlite3.Error, HotfixError):
            self.close()
            return []
        self._more = len(rows) == PAGE
        if rows:
            self.cursor = rows[-1].id
        return [e for row in rows for e in ev.derive(row)]

    def _open(self) -> Store | None:
        try:
            st = os.stat(self.db_path)
        except OSError:
            self.close()
            if self.cursor is None:
                self.cursor = 0  # created after we started: everything in it is new
            return None
        ident = (st.st_dev, st.st_ino)
        if self._store is not None and ident == self._file:
            return self._store
        replaced = self._file is not None
        self.close()
        store = open_store(self.db_path, create=False)
        newest = int(store.scalar("SELECT coalesce(max(id), 0) FROM audit_events"))
        if self.cursor is None:
            self.cursor = newest
        elif replaced and newest < self.cursor:
            self.cursor = 0  # a new file with a shorter trail: all of it is news
        self._store, self._file, self._version = store, ident, None
        return store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        self._store = None


def watch_events(ctx: Context, since: int | None = None, incident: str | None = None,
                 stopped: Callable[[], bool] = lambda: False) -> Iterator[ev.Event]:
    """Every event committed after `since` (None: from now on), for `incident` only if
    given, until `stopped()`. While idle it sleeps between cheap looks."""
    tail = EventTail(ctx.db_path, since, incident)
    wait = MIN_WAIT
    try:
        while not stopped():
            got = tail.poll()
            if got:
                yield from got
                wait = MIN_WAIT
                continue
            time.sleep(wait)
            wait = min(wait * 2, MAX_WAIT)
    finally:
        tail.close()


def deliver_hooks(ctx: Context) -> bool:
    """Start delivering whatever waits for a hook (a detached worker does it); never
    waits and never fails. A read-only console delivers nothing."""
    if ctx.readonly:
        return False
    try:
        config = ctx.fresh_config()
    except HotfixError:
        return False
    repo = ctx.repo.toplevel if ctx.repo else None
    if ctx.one_connection and config.hooks.commands:
        with ctx.reading() as store:  # the command's own connection, not one more
            return hooks.kick(ctx.db_path, repo, config, store)
    return hooks.kick(ctx.db_path, repo, config)


def hook_deliveries(ctx: Context, limit: int = 50,
                    problems_only: bool = False) -> list[deliveries.Delivery]:
    with ctx.reading() as store:
        return deliveries.recent(store, limit, problems_only)


def hook_outcomes_since(ctx: Context, since: str) -> list[deliveries.Delivery]:
    """Deliveries that finished after the timestamp `since`."""
    with ctx.reading() as store:
        return deliveries.finished_since(store, since)
