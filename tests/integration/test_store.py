"""The SQLite store under real processes: concurrency, the audit chain, bad files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hotfix_tui.core.errors import StoreError
from hotfix_tui.core.models import Actor
from hotfix_tui.store import audit, open_store, schema
from tests.helpers import assert_one_line_error, run

WORKER = textwrap.dedent(
    """
    import sys
    from hotfix_tui.core.models import Actor
    from hotfix_tui.store import audit, open_store

    path, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = open_store(path)
    actor = Actor(name)
    errors = 0
    for i in range(n):
        try:
            with store.write():
                value = store.scalar("SELECT value FROM bench_counter WHERE id = 1")
                store.execute("UPDATE bench_counter SET value = ? WHERE id = 1", (value + 1,))
                audit.append(store, actor, "2026-01-01T00:00:00.000Z", "counter", "c",
                             "counter.increment", before=value, after=value + 1)
        except Exception as exc:
            errors += 1
            print("ERR", type(exc).__name__, exc, file=sys.stderr)
    print(errors)
    """
)


def test_eight_processes_read_modify_write(tmp_path: Path):
    db = tmp_path / "shared" / "hotfix.db"
    store = open_store(db)
    store.execute("CREATE TABLE bench_counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
    store.execute("INSERT INTO bench_counter VALUES (1, 0)")
    store.close()
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    procs = [
        subprocess.Popen([sys.executable, str(script), str(db), f"eng{i}", "200"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(8)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for (out, err), p in zip(results, procs, strict=True):
        assert p.returncode == 0, err
        assert out.strip() == "0", err
        assert "locked" not in err
    store = open_store(db)
    assert store.scalar("SELECT value FROM bench_counter WHERE id = 1") == 1600
    result = audit.verify(store)
    assert result.ok and result.events == 1600
    actors = {r[0] for r in store.all("SELECT DISTINCT actor FROM audit_events")}
    assert actors == {f"eng{i}" for i in range(8)}


def test_pragmas_on_every_connection(tmp_path: Path):
    store = open_store(tmp_path / "x.db")
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert store.scalar("PRAGMA busy_timeout") >= 5000
    assert store.scalar("PRAGMA synchronous") == 2  # FULL
    assert store.scalar("PRAGMA foreign_keys") == 1
    assert store.scalar("PRAGMA user_version") == schema.SCHEMA_VERSION


def test_tables_are_strict(tmp_path: Path):
    store = open_store(tmp_path / "x.db")
    for table in ("incidents", "hotfixes", "checklist_items", "approvals", "deploys",
                  "deploy_lines", "environments", "audit_events"):
        sql = store.scalar("SELECT sql FROM sqlite_master WHERE name = ?", (table,))
        assert "STRICT" in sql, table
    with pytest.raises(sqlite3.IntegrityError), store.write():
        store.execute("INSERT INTO incidents (id, key, title, severity, status, opened_by, "
                      "opened_by_verified, opened_at) VALUES (1, 'INC-1', 't', 7, 'open', "
                      "'x', 1, 'now')")


def _event(store, n):
    with store.write():
        audit.append(store, Actor("alice"), f"2026-01-01T00:00:0{n}.000Z", "incident",
                     "INC-1", "incident.opened", after={"n": n}, incident="INC-1")


def test_audit_rows_cannot_be_updated_or_deleted(tmp_path: Path):
    store = open_store(tmp_path / "x.db")
    for n in range(3):
        _event(store, n)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.write():
        store.execute("UPDATE audit_events SET actor = 'mallory' WHERE id = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.write():
        store.execute("DELETE FROM audit_events WHERE id = 2")
    assert audit.verify(store).ok


@pytest.mark.parametrize("change", ["actor", "delete"])
def test_tampering_is_found_and_named(tmp_path: Path, repo: Path, change: str):
    db = tmp_path / "x.db"
    assert run(["--db", str(db), "init"], cwd=repo).code == 0
    for title in ("one", "two", "three", "four"):
        assert run(["--db", str(db), "incident", "open", "--title", title, "--sev", "2"],
                   cwd=repo).code == 0
    ok = run(["--db", str(db), "audit", "verify"], cwd=repo)
    assert ok.code == 0 and ok.out.startswith("ok: 4 events, anchored at event 4")
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER audit_events_no_update")
    conn.execute("DROP TRIGGER audit_events_no_delete")
    if change == "actor":
        conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE id = 3")
    else:
        conn.execute("DELETE FROM audit_events WHERE id = 2")
    conn.commit()
    conn.close()
    res = run(["--db", str(db), "audit", "verify"], cwd=repo)
    assert res.code == 1
    assert "event 3" in res.err
    js = run(["--db", str(db), "audit", "verify", "--json"], cwd=repo)
    assert js.code == 1
    assert js.json()["ok"] is False and js.json()["bad_id"] == 3


def test_newer_schema_is_refused_untouched(tmp_path: Path):
    db = tmp_path / "x.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE incidents (id INTEGER)")
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(StoreError, match="newer hotfix-tui"):
        open_store(db)
    assert db.read_bytes() == before


def test_reading_a_missing_database_creates_nothing(tmp_path: Path):
    db = tmp_path / "sub" / "x.db"
    store = open_store(db, create=False)
    assert store.scalar("SELECT count(*) FROM incidents") == 0
    store.close()
    assert not db.exists() and not db.parent.exists()


def test_failed_write_rolls_back_everything(tmp_path: Path):
    store = open_store(tmp_path / "x.db")
    with pytest.raises(RuntimeError), store.write():
        _raw_incident(store)
        audit.append(store, Actor("a"), "t", "incident", "INC-1", "incident.opened")
        raise RuntimeError("boom")
    assert store.scalar("SELECT count(*) FROM incidents") == 0
    assert store.scalar("SELECT count(*) FROM audit_events") == 0


def _raw_incident(store):
    store.execute("INSERT INTO incidents (id, key, title, severity, status, opened_by, "
                  "opened_by_verified, opened_at) VALUES (1, 'INC-1', 't', 1, 'open', 'x', 1, 't')")


def test_audit_append_outside_a_transaction_is_a_bug(tmp_path: Path):
    store = open_store(tmp_path / "x.db")
    with pytest.raises(RuntimeError):
        audit.append(store, Actor("a"), "t", "incident", "INC-1", "incident.opened")


def test_read_only_file_refuses_writes(tmp_path: Path, repo: Path):
    db = tmp_path / "x.db"
    assert run(["--db", str(db), "init"], cwd=repo).code == 0
    assert run(["--db", str(db), "incident", "open", "--title", "t", "--sev", "1"],
               cwd=repo).code == 0
    # fold the WAL into the main file so the bytes we compare are the whole database
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    db.chmod(0o444)
    before = db.read_bytes()
    res = run(["--db", str(db), "incident", "open", "--title", "t2", "--sev", "1"], cwd=repo)
    assert_one_line_error(res, 1, "read-only")
    assert db.read_bytes() == before
    listed = run(["--db", str(db), "incident", "list", "--json"], cwd=repo)
    assert listed.code == 0 and len(listed.items()) == 1
