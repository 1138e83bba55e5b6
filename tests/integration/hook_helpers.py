"""Hooks under test: a recorder script written by the test, and waiting for deliveries."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path

# Records what it was given: stdin, HOTFIX_EVENT, HOTFIX_EVENT_SEQ, its arguments and pid,
# one file per delivery (written under a temporary name, then renamed into place).
RECORDER = """\
import json, os, sys, uuid
out, label = sys.argv[1], sys.argv[2]
data = sys.stdin.read()
name = f"{os.environ['HOTFIX_EVENT_SEQ']}-{os.environ['HOTFIX_EVENT']}-{label}-{uuid.uuid4().hex}"
record = {"stdin": data, "event": os.environ["HOTFIX_EVENT"],
          "seq": os.environ["HOTFIX_EVENT_SEQ"], "label": label, "args": sys.argv[3:],
          "cwd": os.getcwd(), "pid": os.getpid()}
with open(os.path.join(out, "." + name), "w") as f:
    json.dump(record, f)
os.rename(os.path.join(out, "." + name), os.path.join(out, name + ".json"))
"""


def recorder(tmp_path: Path) -> tuple[Path, Path]:
    """(the recorder script, the folder it records into)."""
    script = tmp_path / "record_hook.py"
    script.write_text(RECORDER)
    out = tmp_path / "got"
    out.mkdir()
    return script, out


def record_argv(script: Path, out: Path, label: str, *extra: str) -> str:
    """A TOML array: the recorder as a hook command."""
    return json.dumps([sys.executable, str(script), str(out), label, *extra])


def recorded(out: Path) -> list[dict]:
    items = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    for item in items:
        item["doc"] = json.loads(item["stdin"])
    return sorted(items, key=lambda r: (int(r["seq"]), r["event"], r["label"]))


def db_of(repo: Path) -> Path:
    return repo / ".git" / "hotfix" / "hotfix.db"


def settled(db: Path) -> bool:
    """Every event turned into deliveries, and no delivery waiting or running."""
    conn = sqlite3.connect(db)
    try:
        behind = conn.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM audit_events) > "
            "(SELECT last_event_id FROM hook_cursor) OR EXISTS (SELECT 1 FROM hook_deliveries "
            "WHERE status IN ('pending', 'running'))").fetchone()[0]
    finally:
        conn.close()
    return not behind


def wait_delivered(db: Path, timeout: float = 60.0) -> None:
    """Wait until the hook workers are done with everything committed so far."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if settled(db):
            return
        time.sleep(0.05)
    raise AssertionError(f"hooks still not delivered after {timeout:g}s: {deliveries(db)}")


def deliveries(db: Path) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM hook_deliveries ORDER BY id")]
    finally:
        conn.close()
