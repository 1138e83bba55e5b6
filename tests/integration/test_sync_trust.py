"""What a bastion may trust of what it fetched (hotfix sync): approvals count only with a
signature that verifies here and only for the content deployed; a site that rewrites or
deletes events it shared is found by the others; two sites that deployed or locked the
same environment apart are shown as a conflict."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hotfix_tui.store.audit import GENESIS, row_hash, site_hash
from tests.helpers import assert_one_line_error, commit_file, git
from tests.integration.release_helpers import deploy
from tests.integration.sync_helpers import Bastions, locked_apart, rows, submitted, two_bastions
from tests.schemas import problems


def _approved_on_both(t: Bastions) -> None:
    """A submits HF-1, B approves it signed by bob, both sync."""
    t.sync(t.a, "--site", "a")
    submitted(t.a)
    t.sync(t.a)
    t.sync(t.b, "--site", "b")
    t.b.ok("approve", "HF-1", actor="bob")
    t.sync(t.b)
    t.sync(t.a)


def test_a_fetched_approval_without_a_good_signature_does_not_count(tmp_path: Path):
    t = two_bastions(tmp_path, policy="optional")  # unsigned approvals count where given
    t.sync(t.a, "--site", "a")
    submitted(t.a)
    t.sync(t.a)
    t.sync(t.b, "--site", "b")
    t.b.ok("approve", "HF-1", actor="carol")  # no agent, no key: unsigned
    here = t.b.show()["approvals"][0]
    assert here["counts"] and not here["signature"]["signed"]
    t.sync(t.b)
    t.sync(t.a)
    fetched = t.a.show()["approvals"][0]
    assert fetched["origin"] == "b" and not fetched["counts"]
    res = deploy(t.a)
    assert res.code == 1 and "signature" in res.err, res.err
    assert rows(t.a, "SELECT count(*) FROM deploys") == [(0,)]


def test_a_fetched_approval_is_checked_against_the_content_deployed(tmp_path: Path, agent):
    t = two_bastions(tmp_path)
    agent.add(t.keys["bob"])
    _approved_on_both(t)
    assert t.a.show()["approvals"][0]["counts"]
    wt = t.a.worktree()
    commit_file(wt, "app/extra.py", "X = 1\n", "One more change after the approval")
    res = deploy(t.a)
    assert res.code == 1 and "stale" in res.err, res.err
    assert rows(t.a, "SELECT count(*) FROM deploys") == [(0,)]


def _rewrite(db: Path, seq: int, actor: str) -> None:
    """What someone with the database file and the algorithm could do: change one of the
    site's own events and recompute every hash after it, so that the chain verifies."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("DROP TRIGGER audit_events_no_update")
        prev = site_prev = GENESIS
        for r in conn.execute("SELECT * FROM audit_events ORDER BY id").fetchall():
            d = dict(r)
            if d["origin"] == "":
                if d["seq"] == seq:
                    d["actor"] = actor
                d["site_prev"] = site_prev
                d["site_hash"] = site_prev = site_hash(site_prev, d["seq"], d)
            d["prev_hash"] = prev
            d["hash"] = prev = row_hash(prev, d)
            conn.execute("UPDATE audit_events SET actor = ?, site_prev = ?, site_hash = ?, "
                         "prev_hash = ?, hash = ? WHERE id = ?",
                         (d["actor"], d["site_prev"], d["site_hash"], d["prev_hash"],
                          d["hash"], d["id"]))
        conn.commit()
    finally:
        conn.close()


def _site_problems(rel) -> list[str]:
    audit = rel.cli("audit", "verify", "--json").json()
    return [p["problem"] for p in audit["problems"] if p["kind"] == "site"]


def test_an_event_rewritten_on_a_is_found_by_audit_verify_on_b(tmp_path: Path):
    t = two_bastions(tmp_path)
    t.sync(t.a, "--site", "a")
    t.a.ok("incident", "note", "INC-1", "cause: rounding")
    t.sync(t.a)
    t.sync(t.b, "--site", "b")
    assert t.b.ok("audit", "verify", "--json").json()["ok"]
    _rewrite(t.a.db, 2, "mallory")
    # A's own chain still verifies: only the other sites can tell
    mine = t.a.cli("audit", "verify", "--json").json()
    assert mine["bad_id"] is None and not [p for p in mine["problems"] if p["kind"] == "chain"]
    t.sync(t.a)
    t.sync(t.b)
    res = t.b.cli("audit", "verify")
    assert res.code == 1
    found = _site_problems(t.b)
    assert any("site a" in p and "rewritten" in p for p in found), found


def test_events_deleted_on_a_are_found_by_audit_verify_on_b(tmp_path: Path):
    t = two_bastions(tmp_path)
    t.sync(t.a, "--site", "a")
    t.sync(t.b, "--site", "b")
    t.a.ok("incident", "note", "INC-1", "first")
    t.a.ok("incident", "note", "INC-1", "second")
    t.sync(t.a)
    t.sync(t.b)
    conn = sqlite3.connect(t.a.db)
    try:
        conn.execute("DROP TRIGGER audit_events_no_delete")
        conn.execute("DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events "
                     "ORDER BY id DESC LIMIT 2)")
        conn.commit()
    finally:
        conn.close()
    t.sync(t.a)
    t.sync(t.b)
    found = _site_problems(t.b)
    assert any("site a" in p and "deleted" in p for p in found), found


def test_two_bastions_that_deployed_the_same_environment_apart_show_the_conflict(
        tmp_path: Path, agent):
    t = two_bastions(tmp_path)
    agent.add(t.keys["bob"])
    _approved_on_both(t)
    t.sync(t.b)
    assert deploy(t.a).code == 0
    res = deploy(t.b, )
    assert res.code == 0, res.err
    for rel in (t.a, t.b, t.a):
        t.sync(rel)
    seen = []
    for rel in (t.a, t.b):
        doc = rel.ok("status", "--json").json()
        assert problems(doc, "environment-list.json") == []
        prod = next(e for e in doc["items"] if e["env"] == "production")
        assert len(prod["conflicts"]) == 1
        pair = prod["conflicts"][0]
        assert {pair["first"]["site"], pair["second"]["site"]} == {"a", "b"}
        assert pair["first"]["action"] == pair["second"]["action"] == "deploy.started"
        seen.append(pair)
        text = rel.ok("status").out
        assert "production: CONFLICT: deploy D-" in text
    assert seen[0] == seen[1]
    # a run of the other site: its outcome, line count and log hash travelled, its log not
    theirs = next(p for p in (seen[0]["first"], seen[0]["second"]) if p["site"] == "b")["key"]
    run = next(r for r in t.a.ok("deploys", "--json").json()["items"] if r["key"] == theirs)
    assert run["status"] == "succeeded" and run["line_count"] > 0
    held = rows(t.b, "SELECT log_hash FROM deploys WHERE key = ?", (theirs,))[0][0]
    assert len(held) == 64
    assert_one_line_error(t.a.cli("log", theirs), contains="stayed on site b")
    assert held in t.a.cli("log", theirs).err
    # a deploy made after seeing the other's is no conflict
    t.a.ok("lock", "--env", "staging", "--reason", "drill")
    t.sync(t.a)
    t.sync(t.b)
    t.b.ok("unlock", "--env", "staging", "--reason", "drill over", actor="bob")
    t.b.ok("lock", "--env", "staging", "--reason", "second drill", actor="bob")
    t.sync(t.b)
    t.sync(t.a)
    for rel in (t.a, t.b):
        staging = next(e for e in rel.ok("status", "--json").json()["items"]
                       if e["env"] == "staging")
        assert staging["conflicts"] == []


def test_two_bastions_that_locked_an_environment_apart_show_the_conflict(tmp_path: Path):
    t = two_bastions(tmp_path)
    locked_apart(t)
    for rel in (t.a, t.b):
        staging = next(e for e in rel.ok("status", "--json").json()["items"]
                       if e["env"] == "staging")
        assert [(p["first"]["action"], p["second"]["action"]) for p in staging["conflicts"]] \
            == [("environment.locked", "environment.locked")]


def _force_pushed_rewrite(t: Bastions, tmp_path: Path, from_start: bool) -> Path:
    """A's first batch, its actor replaced, force-pushed to the remote on top of its
    history (or of its first commit); the batch file."""
    evil = tmp_path / "evil"
    git(tmp_path, "clone", "-q", str(t.remote), str(evil))
    git(evil, "fetch", "-q", "origin", "refs/hotfix/history:refs/hotfix/history")
    base = git(evil, "rev-list", "--max-parents=0", "refs/hotfix/history") if from_start \
        else "refs/hotfix/history"
    git(evil, "checkout", "-q", base)
    batch = next((evil / "sites" / "a" / "events").glob("*.jsonl"))
    batch.write_text(batch.read_text().replace('"actor":"alice"', '"actor":"mallory"'))
    git(evil, "commit", "-q", "-am", "history, improved")
    git(evil, "push", "-q", "-f", "origin", "HEAD:refs/hotfix/history")
    return batch


def test_a_batch_rewritten_in_the_remote_is_reported_and_not_taken(tmp_path: Path):
    t = two_bastions(tmp_path)
    t.sync(t.a, "--site", "a")
    t.sync(t.b, "--site", "b")
    # someone with push access rewrites A's first batch in the remote (force push)
    batch = _force_pushed_rewrite(t, tmp_path, from_start=False)
    res = t.sync(t.b)
    assert res["findings"] == [f"sites/a/events/{batch.name} changed after it was read"]
    assert res["rows"] == 0  # nothing of a rewritten batch is taken
    assert rows(t.b, "SELECT count(*) FROM audit_events WHERE actor = 'mallory'") == [(0,)]
    found = t.b.cli("audit", "verify", "--json").json()
    assert not found["ok"]
    assert any("changed after it was read" in p["problem"] for p in found["problems"])
    # A, who wrote the batch, finds it changed too
    mine = t.sync(t.a)
    assert mine["findings"] == res["findings"]


def test_two_databases_with_records_from_before_joining_report_the_clash(tmp_path: Path):
    t = two_bastions(tmp_path)
    t.b.ok("incident", "open", "--title", "B's own first incident", "--sev", "3", actor="bob")
    t.sync(t.a, "--site", "a")
    res = t.sync(t.b, "--site", "b")
    assert any("INC-1 of site a clashes with INC-1 of b" in f for f in res["findings"])
    assert rows(t.b, "SELECT title FROM incidents WHERE key = 'INC-1'") == \
        [("B's own first incident",)]
    assert not t.b.cli("audit", "verify", "--json").json()["ok"]


def test_a_remote_history_rewritten_from_its_start_is_merged_without_the_rewrite(
        tmp_path: Path):
    t = two_bastions(tmp_path)
    t.sync(t.a, "--site", "a")
    t.sync(t.b, "--site", "b")
    batch = _force_pushed_rewrite(t, tmp_path, from_start=True)
    res = t.sync(t.b)  # B's history and the remote's diverge: merged, B's copy kept
    assert res["findings"] == [f"sites/a/events/{batch.name} differs between this clone "
                               "and the remote: one of them was rewritten"]
    assert res["pushed"]
    shown = git(t.remote, "show", f"refs/hotfix/history:sites/a/events/{batch.name}")
    assert "mallory" not in shown and "alice" in shown
