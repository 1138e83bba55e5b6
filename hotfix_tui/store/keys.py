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


def key_candidates(db_path: Path, kind: str, digits: str, limit: int = 50,
                   only: str | None = None) -> list[tuple[str, str]]:
    """(key, description) pairs whose number starts with `digits`: the key typed in full
    first, then the newest."""
    table, prefix, first, second = _TABLES[kind]
    where = ["key LIKE ?"]
    if only:
        where.append(_FILTERS[only])
    sql = (f"SELECT key, {first}, {second} FROM {table} WHERE {' AND '.join(where)} "
           "ORDER BY key = ? DESC, id DESC LIMIT ?")
    try:
        if not db_path.is_file():
            return []
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.5)
        try:
            rows = conn.execute(sql, (f"{prefix}{digits}%", f"{prefix}{digits}",
                                      int(limit))).fetchall()
        finally:
            conn.close()
    except (sqlite3.Error, OSError):
        return []
    return [(key, f"{a} · {b}") for key, a, b in rows]
