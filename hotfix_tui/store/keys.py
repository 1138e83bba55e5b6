"""Keys for shell completion: one read-only query, no migration, no write, never an error.

Completion runs on every Tab press, so it opens the file read-only and asks one question;
a missing, locked or foreign database simply completes nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# (table, key prefix, the two columns shown as the candidate's description)
_TABLES = {
    "incident": ("incidents", "INC-", "status", "title"),
    "hotfix": ("hotfixes", "HF-", "state", "title"),
    "run": ("deploys", "D-", "kind || ' ' || env || ' ' || version", "status"),
}
_FILTERS = {
    "active": "state NOT IN ('finished', 'abandoned')",  # hotfixes that can still change
    "open": "status <> 'resolved'",  # incidents
    "running": "status = 'running'",  # runs
}


def candidates_query(kind: str, digits: str, limit: int = 50,
                     only: str | None = None) -> tuple[str, tuple]:
    """The one question key_candidates asks, and its parameters."""
    table, prefix, first, second = _TABLES[kind]
    typed = f"{prefix}{digits}"
    if digits:
        # a range of the key's unique index (what `LIKE 'HF-12%'` means for these keys,
        # but LIKE ignores case, so it cannot use the index): with 100 000 hotfixes the
        # LIKE read and sorted every one of them
        where, args = ["key >= ? AND key < ?"], [typed, typed[:-1] + chr(ord(typed[-1]) + 1)]
        order, order_args = "key = ? DESC, id DESC", [typed]
    else:  # every key: the newest, read from the end of the table
        where, args, order, order_args = ["key LIKE ?"], [f"{prefix}%"], "id DESC", []
    if only:
        where.append(_FILTERS[only])
    sql = (f"SELECT key, {first}, {second} FROM {table} WHERE {' AND '.join(where)} "
           f"ORDER BY {order} LIMIT ?")
    return sql, (*args, *order_args, int(limit))


def key_candidates(db_path: Path, kind: str, digits: str, limit: int = 50,
                   only: str | None = None) -> list[tuple[str, str]]:
    """(key, description) pairs whose number starts with `digits`: the key typed in full
    first, then the newest."""
    sql, params = candidates_query(kind, digits, limit, only)
    try:
        if not db_path.is_file():
            return []
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.5)
        try:
            rows = conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    except (sqlite3.Error, OSError):
        return []
    return [(key, f"{a} · {b}") for key, a, b in rows]
