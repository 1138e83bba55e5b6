"""Opening the database and running transactions.

Every connection uses WAL, a long busy timeout, synchronous=FULL and foreign
keys. Every write starts with BEGIN IMMEDIATE: a deferred BEGIN that later
upgrades to a write lock fails at once with "database is locked" when another
process got there first, which loses read-modify-write updates.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .. import sharing
from ..core.errors import StoreError
from . import schema

BUSY_TIMEOUT_MS = 15_000
SLOTS = 10  # sites that may share one history: keys end in the site's slot (1-9)


def _looks_readonly(path: Path) -> bool:
    """True for a file nobody may write: no write bit at all, or not writable by us.

    The bit test matters for root, for whom os.access() always says yes.
    """
    try:
        st = path.stat()
    except OSError:
        return False
    if not (st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)):
        return True
    return not os.access(path, os.W_OK)


def _describe(exc: sqlite3.Error, path: str) -> str:
    text = str(exc)
    low = text.lower()
    if "readonly" in low or "read-only" in low:
        return f"database is read-only: {path}"
    if "not a database" in low or "malformed" in low:
        return f"{path} is not a hotfix database ({text})"
    if "locked" in low or "busy" in low:
        return f"database is busy (another process held it too long): {path}"
    if "unable to open" in low:
        return f"cannot open database {path}: {text}"
    return f"database error on {path}: {text}"


class Store:
    """One connection to the hotfix database.

    The connection runs in autocommit mode (isolation_level=None); write()
    and read() open explicit transactions. It may be used from one thread at
    a time; the TUI gives each worker thread its own Store.
    """

    def __init__(self, conn: sqlite3.Connection, path: str, readonly: bool) -> None:
        self.conn = conn
        self.path = path
        self.readonly = readonly
        self._db = None
        self._depth = 0
        self._lock = threading.RLock()
        self.keep_open = False  # held by its owner for many uses: close() leaves it open
        # Called after a commit that appended audit events (services anchor the chain's
        # head outside the file); a hook reports its own problems and never raises.
        self.after_commit: list[Callable[[Store], None]] = []
        self.chain_moved = False

    @property
    def db(self):
        """sqlite-utils over the same connection (imported on first use: it is slow to load)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    # -- transactions ------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[Store]:
        """BEGIN IMMEDIATE … COMMIT; nested calls join the outer transaction."""
        if self.readonly:
            raise StoreError(f"database is read-only: {self.path}")
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(_describe(exc, self.path)) from exc
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                self.chain_moved = False
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            self._depth = 0
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self.chain_moved = False
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise StoreError(_describe(exc, self.path)) from exc
            if self.chain_moved:
                self.chain_moved = False
                for hook in list(self.after_commit):
                    hook(self)

    @contextmanager
    def read(self) -> Iterator[Store]:
        """A consistent snapshot across several SELECTs."""
        with self._lock:
            if self._depth or self.conn.in_transaction:
                yield self
                return
            self.conn.execute("BEGIN")
            self._depth = 1
            try:
                yield self
            finally:
                self._depth = 0
                if self.conn.in_transaction:
                    self.conn.execute("COMMIT")

    # -- helpers -----------------------------------------------------------
    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.OperationalError as exc:
            if any(w in str(exc).lower() for w in ("readonly", "locked", "not a database")):
                raise StoreError(_describe(exc, self.path)) from exc
            raise

    def one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: tuple | dict = ()):
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def insert(self, table: str, values: dict) -> int:
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cur = self.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(values.values()))
        return int(cur.lastrowid)

    def update(self, table: str, row_id: int, values: dict) -> None:
        sets = ", ".join(f"{c} = ?" for c in values)
        self.execute(f"UPDATE {table} SET {sets} WHERE id = ?", (*values.values(), row_id))

    def next_id(self, table: str) -> int:
        """The next id for a keyed table (INC-n, HF-n, D-n, approvals); call inside write().
        Once this database joined a shared history (sync_site), in its own slot: the
        smallest id above every one taken whose last digit is the slot, so two sites
        never pick the same key and keys stay short."""
        n = int(self.scalar(f"SELECT coalesce(max(id), 0) + 1 FROM {table}"))
        slot = self.scalar("SELECT slot FROM sync_site WHERE id = 1")
        if slot:
            n += (int(slot) - n) % SLOTS
        return n

    def data_version(self) -> int:
        """Changes only when another connection commits (used for live refresh)."""
        return int(self.scalar("PRAGMA data_version"))

    def close(self) -> None:
        if self.keep_open:
            return
        with suppress(sqlite3.Error):
            self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _connect(target: str, uri: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(
        target,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,
        uri=uri,
    )
    conn.row_factory = sqlite3.Row
    return conn


def _pragmas(conn: sqlite3.Connection, readonly: bool) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = FULL")
    if not readonly:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")


def open_memory() -> Store:
    """An empty store in memory: what a read sees before the first write."""
    conn = _connect(":memory:")
    _pragmas(conn, readonly=True)
    schema.migrate(conn, ":memory:")
    return Store(conn, ":memory:", readonly=True)


def _make_database(p: Path) -> None:
    """Create the database's folder and file (shared mode: group-owned and writable);
    refuse a folder we could not create a file in."""
    try:
        sharing.make_dirs(p.parent)
    except OSError as exc:
        raise StoreError(
            f"cannot create database folder {p.parent}: {exc.strerror or exc}"
        ) from exc
    if not os.access(p.parent, os.W_OK | os.X_OK):
        raise StoreError(f"cannot create database in {p.parent}: permission denied")
    try:
        sharing.create_database_file(p)
    except OSError as exc:
        raise StoreError(f"cannot create database {p}: {exc.strerror or exc}") from exc


def _check_ours(conn: sqlite3.Connection, shown: str) -> int:
    """The file's schema version, once it is known to be ours and not newer. Looks before
    touching: a newer or foreign file must stay byte-for-byte intact."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > schema.SCHEMA_VERSION:
        raise StoreError(
            f"{shown} was written by a newer hotfix-tui (schema {version}, this version "
            f"understands up to {schema.SCHEMA_VERSION}); upgrade hotfix-tui"
        )
    if version > 0 and not schema.looks_like_ours(conn):
        raise StoreError(f"{shown} is not a hotfix database")
    if version == 0 and schema.has_foreign_tables(conn):
        raise StoreError(f"{shown} is not a hotfix database (it holds other tables)")
    return version


def open_store(path: str | os.PathLike, *, create: bool = True,
               readonly: bool = False) -> Store:
    """Open (and with create=True, create and migrate) the database at `path`.

    With create=False a missing file gives an empty read-only store in memory,
    so that reading never creates anything. A database written by a newer
    version of hotfix-tui is refused before anything is changed. readonly=True
    opens the file read-only (SQLite itself refuses every write) and creates nothing.
    """
    p = Path(path).expanduser()
    shown = str(p)
    if p.is_dir():
        raise StoreError(f"database path is a directory: {shown}")
    if not p.exists():
        if not create or readonly:
            return open_memory()
        _make_database(p)
    else:
        sharing.adopt_database(p)
        sharing.repair_sidecars(p)
    readonly = readonly or _looks_readonly(p)
    try:
        if readonly:
            conn = _connect(p.resolve().as_uri() + "?mode=ro", uri=True)
        else:
            conn = _connect(shown)
    except sqlite3.Error as exc:
        raise StoreError(_describe(exc, shown)) from exc
    try:
        version = _check_ours(conn, shown)
        _pragmas(conn, readonly)
        if version < schema.SCHEMA_VERSION:
            if readonly:
                raise StoreError(
                    f"database is read-only and needs an upgrade (schema {version} → "
                    f"{schema.SCHEMA_VERSION}): {shown}"
                )
            schema.migrate(conn, shown)
    except StoreError:
        conn.close()
        raise
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(_describe(exc, shown)) from exc
    return Store(conn, shown, readonly)
