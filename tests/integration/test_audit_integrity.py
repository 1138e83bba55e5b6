"""The audit trail catches forgery with plain SQL, truncation and emptiness.

Forgery: an approval row inserted with SQL (and the hotfix's state updated to match)
is reported by `audit verify`, does not count, and does not let a deploy start.
Truncation: the chain's head is anchored in the repository (refs/hotfix/audit/<chain>),
so deleting the newest events, or every event, is found; a deploy on such a chain is
refused (break-glass aside).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hotfix_tui.store.audit import GENESIS, row_hash
from tests.helpers import GIT_ENV, assert_one_line_error, git, init_repo, run, wait_for
from tests.integration.deploy_helpers import deploy_repo


def _db(svc) -> Path:
    return svc.path / ".git" / "hotfix" / "hotfix.db"


def _sql(db: Path, *statements: tuple) -> None:
    """Write behind hotfix's back: plain SQL, the append-only triggers dropped."""
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    for sql, *params in statements:
        conn.execute(sql, tuple(params))
    conn.commit()
    conn.close()


def _in_review(tmp_path: Path):
    svc = deploy_repo(tmp_path)
    assert svc.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    assert svc.cli("pick", "HF-1", svc.fix).code == 0
    assert svc.cli("edit", "HF-1", "--why", "w", "--risk", "r", "--test-plan", "t",
                   "--rollback-plan", "b").code == 0
    for n in ("1", "2"):
        assert svc.cli("check", "HF-1", n).code == 0
    assert svc.cli("submit", "HF-1").code == 0
    return svc


def _production(svc) -> tuple:
    status = {s["env"]: s for s in svc.cli("status", "--json").items()}["production"]
    return status["version"], status["sha"], (svc.srv / "production" / "current").resolve()


def _forge_approval(svc) -> None:
    """What a writer of the database file can do: an approval row bound to exactly the
    content as it is now (its hashes are public), and the hotfix moved to approved."""
    from hotfix_tui import services

    ctx = services.open_context(repo=svc.path)
    b = services.views.hotfix_detail(ctx, "HF-1").binding
    _sql(_db(svc),
         ("INSERT INTO approvals (hotfix_id, approver, approver_account, approver_verified, "
          "decision, head_sha, tree_sha, checklist_hash, doc_hash, config_hash, at) VALUES "
          "(1, 'bob', 'bob', 1, 'approved', ?, ?, ?, ?, ?, '2026-01-01T00:00:00.000Z')",
          b.head_sha, b.tree_sha, b.checklist_hash, b.doc_hash, b.config_hash),
         ("UPDATE hotfixes SET state = 'approved' WHERE key = 'HF-1'",))


def test_a_sql_inserted_approval_is_reported_not_counted_and_deploys_nothing(tmp_path):
    svc = _in_review(tmp_path)
    before = _production(svc)
    _forge_approval(svc)

    res = svc.cli("audit", "verify")
    assert res.code == 1
    assert "HF-1: approved by bob at 2026-01-01 00:00:00: no audit event backs it" in res.out
    assert "HF-1: is approved in the database, but the audit chain says in_review" in res.out
    assert res.err.startswith("error: the audit trail does not verify")
    doc = svc.cli("audit", "verify", "--json").json()
    assert doc["ok"] is False
    assert {p["kind"] for p in doc["problems"]} == {"approval", "hotfix"}

    shown = svc.cli("show", "HF-1", "--json").json()
    (a,) = shown["approvals"]
    assert (a["approver"], a["backed"], a["counts"]) == ("bob", False, False)
    assert a["not_counted"] == "no audit event backs it"
    assert "does not count: no audit event backs it" in svc.cli("show", "HF-1").out

    res = svc.cli("deploy", "HF-1", "--env", "production")
    assert_one_line_error(res, 1, "the approval by bob is not counted")
    assert "the audit chain says in_review" in res.err
    assert _production(svc) == before
    assert svc.cli("deploys", "--json").items() == []

    record = json.loads(svc.cli("export", "HF-1", "--format", "json").out)
    assert [(x["approver"], x["counts"]) for x in record["approvals"]] == [("bob", False)]
    assert "**not counted**: no audit event backs it" in svc.cli("export", "HF-1").out


def test_a_stale_approval_revived_with_sql_does_not_count(tmp_path):
    svc = _in_review(tmp_path)
    assert svc.cli("approve", "HF-1", actor="bob").code == 0
    assert svc.cli("check", "HF-1", "1", "--uncheck").code == 0  # bob's approval is stale
    # (ticking it again would make it count again, with its event: staleness follows the
    # content) Instead, SQL binds the approval to the unticked checklist and revives it.
    from hotfix_tui import services

    b = services.views.hotfix_detail(services.open_context(repo=svc.path), "HF-1").binding
    _sql(_db(svc), ("UPDATE approvals SET stale = 0, stale_reason = '', checklist_hash = ?",
                    b.checklist_hash),
         ("UPDATE hotfixes SET state = 'approved'",))
    shown = svc.cli("show", "HF-1", "--json").json()
    assert [x["counts"] for x in shown["approvals"]] == [False]
    res = svc.cli("audit", "verify")
    assert res.code == 1 and "approved by bob" in res.out
    assert svc.cli("deploy", "HF-1", "--env", "production").code == 1


def _anchored(svc) -> dict:
    doc = svc.cli("audit", "verify", "--json").json()
    assert doc["ok"] and doc["unanchored"] == 0, doc
    return doc


def test_deleting_the_newest_events_is_detected_and_refuses_a_deploy(tmp_path):
    svc = _in_review(tmp_path)
    assert svc.cli("approve", "HF-1", actor="bob").code == 0
    doc = svc.cli("audit", "verify", "--json").json()
    assert doc["ok"]
    n = doc["events"]
    before = _production(svc)
    _sql(_db(svc), ("DELETE FROM audit_events WHERE id > ?", n - 2))

    res = svc.cli("audit", "verify")
    assert res.code == 1
    assert doc["anchor"]["seq"] == n and doc["anchor"]["ref"].startswith("refs/hotfix/audit/")
    assert (f"the newest events are gone: the chain ends at event {n - 2}, but event {n} "
            "was anchored") in res.err
    res = svc.cli("deploy", "HF-1", "--env", "production")
    assert_one_line_error(res, 1, "the audit trail does not verify: the newest events are gone")
    assert _production(svc) == before
    # changes made since do not paper over it: the anchor stays where the evidence is
    for n in ("INC-2", "INC-3", "INC-4"):
        res = svc.cli("incident", "open", "--title", n, "--sev", "3")
        assert res.code == 0 and "could not be recorded" in res.err
    assert svc.cli("audit", "verify").code == 1
    # break-glass aside: loud, recorded, and needing approval after the fact
    res = svc.cli("deploy", "HF-1", "--env", "production", "--break-glass", "chain broken")
    assert res.code == 0, res.err


def test_deleting_every_event_is_detected(tmp_path):
    svc = _in_review(tmp_path)
    n = svc.cli("audit", "verify", "--json").json()["events"]
    _sql(_db(svc), ("DELETE FROM audit_events",))
    res = svc.cli("audit", "verify")
    assert res.code == 1
    assert f"every event is gone: the repository anchors {n} events for this database" in \
        res.err
    # and every record says so on its own: nothing backs them any more
    assert "INC-1: no audit event records that it was opened" in res.out
    assert "HF-1: no audit event records that it was started" in res.out
    assert svc.cli("deploy", "HF-1", "--env", "production").code == 1


def test_emptying_a_database_used_without_its_repository_is_detected(tmp_path, repo):
    """No repository to anchor in: the records still need the events that made them."""
    db = tmp_path / "elsewhere" / "x.db"
    db.parent.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    assert run(["--db", str(db), "init"], cwd=outside).code == 0
    for title in ("one", "two"):
        assert run(["--db", str(db), "incident", "open", "--title", title, "--sev", "2"],
                   cwd=outside).code == 0
    ok = run(["--db", str(db), "audit", "verify"], cwd=outside)
    assert ok.out.strip() == "ok: 2 events, not anchored: no repository"
    _sql(db, ("DELETE FROM audit_events",))
    res = run(["--db", str(db), "audit", "verify"], cwd=outside)
    assert res.code == 1 and "INC-2: no audit event records that it was opened" in res.out


def _rewrite(db: Path, start: int, change) -> None:
    """The determined forger: change events from `start` on and recompute every hash."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    conn.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    rows = [dict(r) for r in conn.execute("SELECT * FROM audit_events ORDER BY id")]
    prev = GENESIS if start == 1 else rows[start - 2]["hash"]
    for r in rows[start - 1:]:
        change(r)
        r["prev_hash"] = prev
        r["hash"] = prev = row_hash(prev, r)
        conn.execute("UPDATE audit_events SET actor = ?, prev_hash = ?, hash = ? WHERE id = ?",
                     (r["actor"], r["prev_hash"], r["hash"] + "~", r["id"]))
    for r in rows[start - 1:]:
        conn.execute("UPDATE audit_events SET hash = ? WHERE id = ?", (r["hash"], r["id"]))
    conn.commit()
    conn.close()


@pytest.mark.parametrize("start", [1, 3])
def test_a_rewritten_chain_is_detected(tmp_path, start):
    svc = _in_review(tmp_path)
    assert svc.cli("audit", "verify").code == 0
    _rewrite(_db(svc), start, lambda r: r.update(actor="mallory"))
    res = svc.cli("audit", "verify")
    assert res.code == 1
    want = "the chain was replaced" if start == 1 else "the chain was rewritten"
    assert want in res.err


def test_the_anchor_is_a_history_in_the_repository(tmp_path):
    svc = _in_review(tmp_path)
    doc = _anchored(svc)
    ref = doc["anchor"]["ref"]
    log = git(svc.path, "log", "--format=%s", ref).splitlines()
    assert log[0] == f"hotfix audit head: event {doc['events']}"
    assert len(log) > 3  # one commit per change, each on the one before
    assert git(svc.path, "reflog", "show", "--format=%gs", ref).splitlines()[0] == log[0]
    body = json.loads(git(svc.path, "log", "-1", "--format=%b", ref))
    assert (body["seq"], body["hash"]) == (doc["anchor"]["seq"], doc["anchor"]["hash"])
    # the branches and the working tree are untouched by it
    assert git(svc.path, "status", "--porcelain") == ""


def test_a_run_finished_by_its_runner_is_anchored(tmp_path):
    svc = _in_review(tmp_path)
    assert svc.cli("approve", "HF-1", actor="bob").code == 0
    assert svc.cli("deploy", "HF-1", "--env", "production").code == 0
    # the runner anchors right after it commits the outcome (the follower may be faster)
    doc = wait_for(lambda: (d := svc.cli("audit", "verify", "--json").json())["unanchored"] == 0
                   and d, "the runner to anchor the run's outcome")
    assert doc["ok"] and doc["anchor"]["seq"] == doc["events"]
    actions = [r[0] for r in sqlite3.connect(_db(svc)).execute(
        "SELECT action FROM audit_events ORDER BY id DESC LIMIT 3")]
    assert "deploy.succeeded" in actions  # written by the runner, anchored by it


def test_many_writers_at_once_leave_one_anchor_at_the_head(tmp_path):
    """Real processes racing: every one moves the ref by compare-and-swap, forward only."""
    repo = init_repo(tmp_path / "r")
    git(repo, "commit", "-q", "--allow-empty", "-m", "init")
    code = ("import sys\nfrom hotfix_tui.cli import main\n"
            "for i in range(6):\n"
            "    try:\n"
            "        main(['incident', 'open', '--title', f'{sys.argv[1]}-{i}', '--sev', '3'])\n"
            "    except SystemExit as exc:\n"
            "        assert exc.code == 0, exc.code\n")
    env = {**__import__("os").environ, **GIT_ENV}
    procs = [subprocess.Popen([sys.executable, "-c", code, f"w{n}"], cwd=repo, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for n in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    doc = run(["audit", "verify", "--json"], cwd=repo).json()
    assert doc["ok"] and doc["events"] == 24
    assert doc["anchor"]["seq"] == 24 and doc["unanchored"] == 0
