"""Rows of deploy, verify and rollback runs, and their log lines."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..clock import parse_iso
from ..core import estimate
from ..core.errors import UnknownKey
from ..core.models import Deploy, LogLine, RunKind, RunStatus
from ..core.workflow import parse_key
from .db import Store
from .rows import from_row

INSERT_LINES = ("INSERT INTO deploy_lines (deploy_id, seq, stream, at, text, flags) "
                "VALUES (?, ?, ?, ?, ?, ?)")

_SELECT = """
SELECT d.*, h.key AS hotfix_key FROM deploys d LEFT JOIN hotfixes h ON h.id = d.hotfix_id
"""


def deploy_from_row(r: sqlite3.Row, status: RunStatus | None = None) -> Deploy:
    return from_row(Deploy, r, {"hotfix": "hotfix_key", "cancelled_by": "cancel_requested_by"},
                    status=status or RunStatus(r["status"]), argv=tuple(json.loads(r["argv"])),
                    bypassed=tuple(json.loads(r["bypassed"])),
                    survivors=tuple(json.loads(r["survivors"] or "[]")))


def run_row(store: Store, key: str | int) -> sqlite3.Row:
    n = key if isinstance(key, int) else parse_key(str(key), "D")
    row = store.one(_SELECT + " WHERE d.id = ?", (n,))
    if row is None:
        raise UnknownKey("run", f"D-{n}")
    return row


def insert_run(
    store: Store,
    *,
    env: str,
    kind: str,
    argv: list[str],
    workdir: str,
    started_by: str,
    started_by_verified: bool,
    started_at: str,
    env_vars: dict[str, str] | None = None,
    hotfix_id: int | None = None,
    sha: str = "",
    version: str = "",
    previous_sha: str = "",
    previous_version: str = "",
    timeout_s: float = 900.0,
    cancel_grace_s: float = 10.0,
    max_log_bytes: int = 64 * 1024 * 1024,
    break_glass: bool = False,
    break_glass_reason: str = "",
    reason: str = "",
    host: str = "",
    gate_env: str = "",
    later_envs: tuple[str, ...] = (),
    bypassed: tuple[str, ...] = (),
) -> sqlite3.Row:
    """Insert a run in state `running`; call inside store.write().

    A second running run on the same environment violates a unique index,
    which is how two simultaneous starts resolve to exactly one.
    """
    n = store.next_id("deploys")
    values: dict[str, Any] = {
        "id": n,
        "key": f"D-{n}",
        "hotfix_id": hotfix_id,
        "env": env,
        "kind": str(RunKind(kind)),
        "status": str(RunStatus.RUNNING),
        "sha": sha,
        "version": version,
        "previous_sha": previous_sha,
        "previous_version": previous_version,
        "started_by": started_by,
        "started_by_verified": int(started_by_verified),
        "started_at": started_at,
        "heartbeat_at": started_at,
        "argv": json.dumps(list(argv)),
        "env_vars": json.dumps(env_vars or {}, sort_keys=True),
        "workdir": workdir,
        "timeout_s": float(timeout_s),
        "cancel_grace_s": float(cancel_grace_s),
        "max_log_bytes": int(max_log_bytes),
        "break_glass": int(break_glass),
        "break_glass_reason": break_glass_reason,
        "reason": reason,
        "host": host,
        "gate_env": gate_env,
        "later_envs": json.dumps(list(later_envs)),
        "bypassed": json.dumps(list(bypassed)),
    }
    store.insert("deploys", values)
    return run_row(store, n)


def append_sys_line(store: Store, deploy_id: int, text: str, at: str) -> None:
    """Add a line from hotfix itself (stream `sys`) at the end of a run's log; call inside
    store.write()."""
    seq = int(store.scalar("SELECT coalesce(max(seq), 0) FROM deploy_lines WHERE "
                           "deploy_id = ?", (deploy_id,))) + 1
    store.execute(INSERT_LINES, (deploy_id, seq, "sys", at, text, 0))
    store.execute("UPDATE deploys SET lines = ? WHERE id = ?", (seq, deploy_id))


def read_lines(store: Store, deploy_id: int, after_seq: int = 0,
               limit: int = 1000) -> list[LogLine]:
    rows = store.all(
        "SELECT seq, stream, at, text, flags FROM deploy_lines WHERE deploy_id = ? AND seq > ? "
        "ORDER BY seq LIMIT ?",
        (deploy_id, after_seq, limit),
    )
    return [LogLine(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def line_range(store: Store, deploy_id: int, first_seq: int, count: int) -> list[LogLine]:
    """Lines first_seq .. first_seq+count-1 (sequence numbers are dense from 1)."""
    rows = store.all(
        "SELECT seq, stream, at, text, flags FROM deploy_lines WHERE deploy_id = ? "
        "AND seq >= ? AND seq < ? ORDER BY seq",
        (deploy_id, first_seq, first_seq + count),
    )
    return [LogLine(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def list_runs(store: Store, *, env: str | None = None, hotfix_id: int | None = None,
              running_only: bool = False, limit: int | None = None) -> list[sqlite3.Row]:
    where, params = [], []
    if env:
        where.append("d.env = ?")
        params.append(env)
    if hotfix_id is not None:
        where.append("d.hotfix_id = ?")
        params.append(hotfix_id)
    if running_only:
        where.append("d.status = 'running'")
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY d.id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return store.all(sql, tuple(params))


def recent_successes(store: Store, env: str, kind: str, limit: int,
                     exclude_id: int | None = None) -> list[tuple[str, str]]:
    """(started_at, finished_at) of the newest successful runs of `kind` on `env`."""
    rows = store.all(
        "SELECT started_at, finished_at FROM deploys WHERE env = ? AND kind = ? AND "
        "status = 'succeeded' AND finished_at IS NOT NULL AND id <> ? ORDER BY id DESC "
        "LIMIT ?", (env, kind, exclude_id or 0, limit))
    return [(r[0], r[1]) for r in rows]


def lines_per_second(store: Store, deploy_id: int, started_at: str, after_seq: int
                     ) -> tuple[int, dict[int, int]]:
    """(the last seq counted, {second since started_at: lines}) for lines after
    `after_seq`: one grouped pass, so following a flood costs one query per look."""
    rows = store.all(
        "SELECT CAST((julianday(at) - julianday(?)) * 86400 AS INTEGER) AS s, count(*), "
        "max(seq) FROM deploy_lines WHERE deploy_id = ? AND seq > ? GROUP BY s",
        (started_at, deploy_id, after_seq))
    counts = {max(0, int(r[0] or 0)): int(r[1]) for r in rows}
    last = max((int(r[2]) for r in rows), default=after_seq)
    return last, counts


def typical_duration(store: Store, env: str, kind: str, exclude_id: int | None = None
                     ) -> float | None:
    """How long a successful `kind` run on `env` usually takes (core.estimate), in
    seconds; None without history."""
    spans = recent_successes(store, env, str(kind), estimate.RECENT, exclude_id)
    return estimate.typical_seconds([(parse_iso(f) - parse_iso(s)).total_seconds()
                                     for s, f in spans])
