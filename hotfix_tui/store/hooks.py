"""Hook deliveries in SQLite: the cursor over the audit trail, and one row per delivery.

A delivery goes pending → running → succeeded | failed | timed_out. `claim()` makes
it running in a BEGIN IMMEDIATE transaction just before its command starts, and only
from pending, so no two processes ever start it, and a worker that dies leaves it
running, to be marked `lost` (never run again). A pending row whose worker died
before starting it is still pending, and the next worker runs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .db import Store

PENDING, RUNNING, SUCCEEDED, FAILED, TIMED_OUT, LOST, SKIPPED = (
    "pending", "running", "succeeded", "failed", "timed_out", "lost", "skipped")
PROBLEMS = (FAILED, TIMED_OUT, LOST)


@dataclass(frozen=True)
class Delivery:
    """One hook delivery to make for one audit event."""

    id: int
    seq: int
    event: str
    hook: str
    argv: tuple[str, ...]
    cwd: str
    payload: str
    timeout_s: float
    status: str
    queued_at: str
    started_at: str | None
    finished_at: str | None
    host: str
    pid: int | None
    exit_code: int | None
    signal: int | None
    duration_ms: int | None
    stderr: str
    error: str

    @property
    def problem(self) -> bool:
        return self.status in PROBLEMS

    @property
    def actor(self) -> str:
        """Who caused the event."""
        try:
            return str(json.loads(self.payload).get("actor") or "")
        except (ValueError, AttributeError):
            return ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "seq": self.seq, "event": self.event, "hook": self.hook,
            "argv": list(self.argv), "status": self.status, "exit_code": self.exit_code,
            "signal": self.signal, "duration_ms": self.duration_ms, "stderr": self.stderr or None,
            "error": self.error or None, "queued_at": self.queued_at,
            "started_at": self.started_at, "finished_at": self.finished_at,
            "host": self.host or None, "pid": self.pid,
        }


def _delivery(row) -> Delivery:
    return Delivery(
        id=row["id"], seq=row["event_id"], event=row["event"], hook=row["hook"],
        argv=tuple(json.loads(row["argv"])), cwd=row["cwd"], payload=row["payload"],
        timeout_s=float(row["timeout_s"]), status=row["status"], queued_at=row["queued_at"],
        started_at=row["started_at"], finished_at=row["finished_at"], host=row["host"],
        pid=row["pid"], exit_code=row["exit_code"], signal=row["signal"],
        duration_ms=row["duration_ms"], stderr=row["stderr"], error=row["error"])


def cursor(store: Store) -> int:
    return int(store.scalar("SELECT last_event_id FROM hook_cursor WHERE id = 1") or 0)


def set_cursor(store: Store, event_id: int) -> None:
    store.execute("UPDATE hook_cursor SET last_event_id = ? WHERE id = 1", (event_id,))


def has_work(store: Store) -> bool:
    """Events not yet turned into deliveries, or deliveries not yet started."""
    return bool(store.scalar(
        "SELECT (SELECT coalesce(max(id), 0) FROM audit_events) > "
        "(SELECT last_event_id FROM hook_cursor WHERE id = 1) "
        "OR EXISTS (SELECT 1 FROM hook_deliveries WHERE status = 'pending')"))


def add(store: Store, *, event_id: int, event: str, hook: str, argv: list[str], cwd: str,
        payload: str, timeout_s: float, now: str, skipped: str = "") -> None:
    """Queue one delivery (inside store.write()); a second one for the same event, event
    name and hook is ignored."""
    store.execute(
        "INSERT OR IGNORE INTO hook_deliveries (event_id, event, hook, argv, cwd, payload, "
        "timeout_s, status, queued_at, finished_at, error) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (event_id, event, hook, json.dumps(argv), cwd, payload, timeout_s,
         SKIPPED if skipped else PENDING, now, now if skipped else None, skipped))


def pending(store: Store, limit: int = 500) -> list[Delivery]:
    return [_delivery(r) for r in store.all(
        "SELECT * FROM hook_deliveries WHERE status = 'pending' ORDER BY event_id, id LIMIT ?",
        (limit,))]


def claim(store: Store, delivery_id: int, host: str, pid: int, now: str) -> bool:
    """pending → running; False if someone else got there first."""
    with store.write():
        cur = store.execute(
            "UPDATE hook_deliveries SET status = 'running', host = ?, pid = ?, started_at = ? "
            "WHERE id = ? AND status = 'pending'", (host, pid, now, delivery_id))
        return cur.rowcount == 1


def finish(store: Store, delivery_id: int, status: str, *, now: str, exit_code: int | None,
           signal: int | None, duration_ms: int, stderr: str, error: str = "") -> None:
    with store.write():
        store.execute(
            "UPDATE hook_deliveries SET status = ?, finished_at = ?, exit_code = ?, signal = ?, "
            "duration_ms = ?, stderr = ?, error = ? WHERE id = ? AND status = 'running'",
            (status, now, exit_code, signal, duration_ms, stderr, error, delivery_id))


def running(store: Store) -> list[Delivery]:
    return [_delivery(r) for r in store.all(
        "SELECT * FROM hook_deliveries WHERE status = 'running' ORDER BY id")]


def mark_lost(store: Store, delivery_id: int, now: str) -> None:
    """A running delivery whose worker is gone: lost, never run again."""
    with store.write():
        store.execute(
            "UPDATE hook_deliveries SET status = 'lost', finished_at = ?, error = "
            "'the worker running it ended before it finished; not run again' "
            "WHERE id = ? AND status = 'running'", (now, delivery_id))


def recent(store: Store, limit: int = 50, problems_only: bool = False) -> list[Delivery]:
    """The newest `limit` deliveries, oldest first."""
    where = "WHERE status IN ('failed', 'timed_out', 'lost')" if problems_only else ""
    rows = store.all(f"SELECT * FROM (SELECT * FROM hook_deliveries {where} "
                     "ORDER BY id DESC LIMIT ?) ORDER BY id", (limit,))
    return [_delivery(r) for r in rows]


def finished_since(store: Store, since: str, limit: int = 200) -> list[Delivery]:
    """Deliveries that finished after the timestamp `since`, oldest first (for a
    console's warnings)."""
    return [_delivery(r) for r in store.all(
        "SELECT * FROM hook_deliveries WHERE finished_at > ? AND status <> 'skipped' "
        "ORDER BY finished_at, id LIMIT ?", (since, limit))]
