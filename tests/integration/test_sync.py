"""`hotfix sync` between two bastions through a real bare remote (tests/integration/
sync_helpers.py): what A starts B approves, signed, and A deploys with that approval."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.helpers import assert_one_line_error, git, wait_for
from tests.integration.release_helpers import deploy
from tests.integration.sync_helpers import clone, history, rows, submitted, two_bastions
from tests.schemas import problems


def test_b_approves_what_a_submitted_and_a_deploys_with_it(tmp_path: Path, agent):
    t = two_bastions(tmp_path)
    agent.add(t.keys["bob"])
    first = t.sync(t.a, "--site", "a")
    assert first["joined"] and first["site"] == "a" and first["pushed"]
    sha = submitted(t.a)
    assert t.a.show()["state"] == "in_review"
    t.sync(t.a)
    got = t.sync(t.b, "--site", "b")
    assert got["received"]["a"] > 0 and got["slot"] != first["slot"]
    assert t.b.show()["state"] == "in_review" and t.b.show()["head_sha"] == sha
    res = t.b.ok("approve", "HF-1", actor="bob")
    assert f"signed with {t.keys['bob'].fingerprint()}" in res.out
    sent = t.sync(t.b)
    assert sent["sent_events"] >= 1 and sent["pushed"]
    back = t.sync(t.a)
    assert back["received"]["b"] >= 1
    approval = t.a.show()["approvals"][0]
    assert approval["approver"] == "bob" and approval["signature"]["valid"]
    assert rows(t.a, "SELECT origin FROM approvals") == [("b",)]
    res = deploy(t.a)
    assert res.code == 0, res.err
    for rel in (t.a, t.b):
        t.sync(rel)
    assert t.b.show()["state"] == "deployed"
    for rel in (t.a, t.b):
        audit = rel.ok("audit", "verify", "--json").json()
        assert audit["ok"], audit["problems"]


def test_events_appended_apart_end_in_the_same_order_on_both(tmp_path: Path):
    t = two_bastions(tmp_path)
    t.sync(t.a, "--site", "a")
    t.sync(t.b, "--site", "b")
    # apart: each opens an incident, notes it and locks staging
    t.a.ok("incident", "open", "--title", "Payments slow", "--sev", "2")
    t.b.ok("incident", "open", "--title", "Search down", "--sev", "2", actor="bob")
    a_inc = rows(t.a, "SELECT key FROM incidents WHERE title = 'Payments slow'")[0][0]
    b_inc = rows(t.b, "SELECT key FROM incidents WHERE title = 'Search down'")[0][0]
    assert a_inc != b_inc and len(a_inc) <= 6 and len(b_inc) <= 6  # short, unique keys
    t.a.ok("incident", "note", a_inc, "p99 at 4s")
    t.b.ok("incident", "note", b_inc, "index rebuilding", actor="bob")
    said = t.a.ok("sync").out
    assert said.startswith("synced with origin as a: nothing in, 2 events out")
    assert t.b.ok("sync", actor="bob").out.startswith("synced with origin as b: 2 from a in, "
                                                      "2 events out")
    t.sync(t.a)
    for rel in (t.a, t.b):
        keys = {r[0] for r in rows(rel, "SELECT key FROM incidents")}
        assert {"INC-1", a_inc, b_inc} <= keys
        audit = rel.ok("audit", "verify", "--json").json()
        assert audit["ok"], audit["problems"]
    log_a, log_b = history(t.a), history(t.b)
    assert log_a == log_b
    assert problems(t.a.ok("audit", "log", "--json").json(), "audit-log.json") == []
    shown = t.b.ok("audit", "log").out.splitlines()
    assert len(shown) == len(log_b) and "b#2  incident.note  INC-2  by bob" in "\n".join(shown)
    assert {e[1] for e in log_a} == {"a", "b"}
    # idempotent: syncing again changes nothing
    again = t.sync(t.b)
    assert again["received_events"] == 0 and again["sent_events"] == 0
    assert history(t.b) == log_b


def test_a_push_refused_as_non_fast_forward_is_retried_after_a_fetch(tmp_path: Path):
    t = two_bastions(tmp_path)
    t.sync(t.a, "--site", "a")
    t.sync(t.b, "--site", "b")
    # A records an event and publishes it to a side remote first, so that its history
    # is ahead of the shared one; B's pre-push hook pushes A's history to the shared
    # remote once, between B's fetch and B's push: git refuses B's push (fetch first)
    side = tmp_path / "side.git"
    git(tmp_path, "clone", "-q", "--mirror", str(t.remote), str(side))
    git(t.a.path, "remote", "add", "side", str(side))
    t.a.ok("incident", "open", "--title", "Raced in", "--sev", "3")
    t.sync(t.a, "--remote", "side")
    mark = tmp_path / "raced"
    hook = t.b.path / ".git" / "hooks" / "pre-push"
    hook.write_text(f"#!/bin/sh\nunset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE\n"
                    f"if [ ! -e '{mark}' ]; then touch '{mark}'; "
                    f"git -C '{t.a.path}' push -q origin refs/hotfix/history; fi\n")
    hook.chmod(0o755)
    t.b.ok("incident", "open", "--title", "Racing", "--sev", "3", actor="bob")
    res = t.sync(t.b)
    assert mark.exists() and res["attempts"] == 2 and res["pushed"]
    assert res["received"].get("a", 0) >= 1
    t.sync(t.a)
    for rel in (t.a, t.b):
        titles = {r[0] for r in rows(rel, "SELECT title FROM incidents")}
        assert {"Raced in", "Racing"} <= titles
    assert history(t.a) == history(t.b)


def test_bad_input_is_one_error_line_and_changes_nothing(tmp_path: Path):
    t = two_bastions(tmp_path)
    before = rows(t.a, "SELECT count(*) FROM audit_events")
    assert_one_line_error(t.a.cli("sync", "--remote", "nowhere"), contains="unknown remote")
    assert_one_line_error(t.a.cli("sync", "--remote", "-x"), contains="invalid remote")
    assert_one_line_error(t.a.cli("sync", "--site", "a/b"), contains="invalid site name")
    git(t.a.path, "remote", "add", "gone", str(tmp_path / "missing.git"))
    assert_one_line_error(t.a.cli("sync", "--remote", "gone"), contains="cannot fetch")
    assert rows(t.a, "SELECT count(*) FROM audit_events") == before
    assert rows(t.a, "SELECT count(*) FROM sync_site") == [(0,)]
    # bad content in the shared ref: a file that is not a batch of events
    t.sync(t.b, "--site", "b")
    bad = tmp_path / "bad"
    clone(t.remote, bad)
    git(bad, "fetch", "-q", "origin", "refs/hotfix/history:refs/hotfix/history")
    git(bad, "checkout", "-q", "refs/hotfix/history")
    garbage = bad / "sites" / "b" / "events" / "000000000099.jsonl"
    garbage.parent.mkdir(parents=True, exist_ok=True)
    garbage.write_text("{not json\n")
    git(bad, "add", "--all")
    git(bad, "commit", "-q", "-m", "garbage")
    git(bad, "push", "-q", "origin", "HEAD:refs/hotfix/history")
    res = t.a.cli("sync", "--site", "a")
    assert_one_line_error(res, contains="bad content")
    assert rows(t.a, "SELECT count(*) FROM audit_events") == before
    assert rows(t.a, "SELECT count(*) FROM sync_site") == [(0,)]
    assert not git(t.a.path, "for-each-ref", "refs/hotfix/history")
    # a [sync] section that names no usable remote is refused where it is written
    config = t.a.path / ".hotfix.toml"
    config.write_text(config.read_text() + '\n[sync]\nremote = "-x"\n')
    assert_one_line_error(t.a.cli("sync"), contains="sync.remote")


def _published_seq(remote: Path, site: str) -> int:
    out = git(remote, "show", f"refs/hotfix/history:sites/{site}/head.json", check=False)
    return json.loads(out)["seq"] if out.startswith("{") else 0


def test_sync_auto_pushes_each_change_in_the_background(tmp_path: Path):
    t = two_bastions(tmp_path, extra_config='\n[sync]\nremote = "origin"\nauto = true\n')
    t.a.ok("incident", "note", "INC-1", "before joining: nothing is pushed")
    assert _published_seq(t.remote, "a") == 0
    t.sync(t.a, "--site", "a")  # the first sync, by hand, names the site
    joined = _published_seq(t.remote, "a")
    t.a.ok("incident", "note", "INC-1", "pushed by itself")
    wait_for(lambda: _published_seq(t.remote, "a") == joined + 1, "the background push")
    got = t.sync(t.b, "--site", "b")
    assert got["received"]["a"] == joined + 1
    assert "pushed by itself" in t.b.ok("timeline", "INC-1").out


def _v8_database(db: Path, incidents: int) -> None:
    """A database as hotfix-tui wrote it before sync (schema 8): incidents INC-1…INC-n and
    their events, hash-chained as that version did."""
    from hotfix_tui.store import audit, schema

    for p in db.parent.glob(db.name + "*"):
        p.unlink()
    conn = sqlite3.connect(db)
    for script in schema.MIGRATIONS[:8]:
        for statement in schema._split(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 8")
    prev = audit.GENESIS
    for n in range(1, incidents + 1):
        at = f"2026-01-0{n}T10:00:00.000Z"
        conn.execute("INSERT INTO incidents (id, key, title, severity, status, opened_by, "
                     "opened_by_verified, opened_at) VALUES (?, ?, ?, 2, 'open', 'alice', 1, ?)",
                     (n, f"INC-{n}", f"Old incident {n}", at))
        row = {"id": n, "at": at, "actor": "alice", "actor_verified": 1, "entity": "incident",
               "entity_key": f"INC-{n}", "action": "incident.opened", "incident": f"INC-{n}",
               "hotfix": None, "data": audit.canonical({"before": None,
                                                        "after": {"status": "open"}})}
        row["prev_hash"] = prev
        row["hash"] = prev = audit.row_hash(prev, row)
        conn.execute(f"INSERT INTO audit_events ({', '.join(row)}) VALUES "
                     f"({', '.join('?' for _ in row)})", tuple(row.values()))
    conn.commit()
    conn.close()


def test_a_database_from_before_sync_is_migrated_and_keeps_its_keys(tmp_path: Path):
    t = two_bastions(tmp_path)
    for ref in git(t.a.path, "for-each-ref", "--format=%(refname)", "refs/hotfix").split():
        git(t.a.path, "update-ref", "-d", ref)  # the anchor of the database replaced below
    _v8_database(t.a.db, 3)
    # migration V9: each event's place in its site's chain is its place in the chain
    audit = t.a.ok("audit", "verify", "--json").json()
    assert audit["ok"], audit["problems"]
    assert rows(t.a, "SELECT count(*) FROM audit_events WHERE seq = id AND "
                "site_hash = hash AND site_prev = prev_hash") == [(3,)]
    t.sync(t.a, "--site", "a")
    t.sync(t.b, "--site", "b")
    t.a.ok("incident", "open", "--title", "After joining, on A", "--sev", "3")
    t.b.ok("incident", "open", "--title", "After joining, on B", "--sev", "3", actor="bob")
    for rel in (t.a, t.b, t.a):
        t.sync(rel)
    for rel in (t.a, t.b):
        keys = dict(rows(rel, "SELECT title, key FROM incidents"))
        assert [keys[f"Old incident {n}"] for n in (1, 2, 3)] == ["INC-1", "INC-2", "INC-3"]
        # new keys: above every key taken, in the site's slot (its last digit), still short
        assert keys["After joining, on A"] == "INC-11"
        assert keys["After joining, on B"] == "INC-12"
        verified = rel.ok("audit", "verify", "--json").json()
        assert verified["ok"], verified["problems"]
