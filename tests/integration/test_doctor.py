"""`hotfix doctor` from one account: what it checks, and that a warning never fails it."""

from __future__ import annotations

from datetime import timedelta

from hotfix_tui.clock import iso, utcnow
from hotfix_tui.core.models import Actor
from hotfix_tui.store import audit, open_store
from tests.helpers import run


def test_a_private_repository_is_healthy_and_terminal_warnings_do_not_fail(repo, db_path):
    assert run(["incident", "open", "--title", "t", "--sev", "1"], cwd=repo).code == 0
    res = run(["doctor", "--json"], cwd=repo, env={"TERM": "dumb", "COLORTERM": None})
    assert res.code == 0, res.out
    checks = {c["name"]: c for c in res.json()["checks"]}
    assert checks["shared mode"]["detail"].startswith("private")
    assert checks["TERM"]["status"] == "warn" and checks["TERM"]["fix"]
    assert checks["database"]["status"] == "ok"
    text = run(["doctor"], cwd=repo, env={"TERM": "dumb"})
    assert text.code == 0 and text.out.splitlines()[-1].endswith("healthy")


def test_clock_skew_against_the_newest_event(repo, db_path):
    assert run(["incident", "open", "--title", "t", "--sev", "1"], cwd=repo).code == 0
    store = open_store(db_path)
    try:
        with store.write():
            audit.append(store, Actor("alice"), iso(utcnow() + timedelta(minutes=10)),
                         "incident", "INC-1", "incident.noted", after={"note": "from later"})
    finally:
        store.close()
    res = run(["doctor"], cwd=repo)
    assert res.code == 1
    line = next(ln for ln in res.out.splitlines() if " clock " in f" {ln} ")
    assert line.startswith("FAIL") and "future" in line
    assert "timedatectl set-ntp true" in res.out


def test_a_group_writable_folder_without_setgid_is_named(repo, db_path):
    assert run(["incident", "open", "--title", "t", "--sev", "1"], cwd=repo).code == 0
    db_path.parent.chmod(0o775)
    res = run(["doctor", "--json"], cwd=repo)
    assert res.code == 1
    shared = next(c for c in res.json()["checks"] if c["name"] == "shared mode")
    assert shared["status"] == "fail" and shared["fix"] == f"sudo chmod g+s {db_path.parent}"


def test_a_missing_named_database_is_a_failure_with_its_fix(repo, tmp_path):
    res = run(["--db", str(tmp_path / "typo.db"), "doctor"], cwd=repo)
    assert res.code == 1
    assert "no hotfix database at" in res.out and "fix: hotfix init" in res.out
