"""A rollback goes only where the environment has been: a release it ran successfully, or
one recorded by `adopt` with its reason. Any other target (a tag anyone can make, a
release only another environment ran) is refused with the list of valid targets, or
needs break-glass, loudly and with a second person to lift the lock it leaves."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import assert_one_line_error, commit_file, git, query_plans
from tests.integration.deploy_helpers import approved_hotfix, deploy_repo


@pytest.fixture
def svc(tmp_path):
    return deploy_repo(tmp_path)


def _current(svc) -> str:
    return os.readlink(svc.srv / "production" / "current")


def _production(svc) -> dict:
    return {s["env"]: s for s in svc.cli("status", "--json").items()}["production"]


def _events(svc) -> int:
    conn = sqlite3.connect(svc.path / ".git" / "hotfix" / "hotfix.db")
    try:
        return conn.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    finally:
        conn.close()


def _unreviewed_tag(svc, tag: str = "v9.9.9") -> str:
    """A commit nobody reviewed, on a branch of its own, tagged like a release."""
    git(svc.path, "checkout", "-q", "-b", "mallory", "v1.4.1")
    sha = commit_file(svc.path, "app/checkout.py", "def total(items):\n    return 0\n",
                      "Totals are free")
    git(svc.path, "checkout", "-q", "main")
    git(svc.path, "tag", tag, sha)
    return sha


def _approved(svc, key: str) -> None:
    """HF-1 picks the fix; a later hotfix (started from what production runs, which has
    it) commits a change of its own."""
    if key == "HF-1":
        approved_hotfix(svc)
        return
    assert svc.cli("start", "--incident", "INC-1", "--title", f"Change {key}").code == 0
    wt = Path(svc.cli("show", key, "--json").json()["worktree"])
    commit_file(wt, f"app/{key.lower().replace('-', '')}.py", "X = 1\n", f"Change {key}")
    assert svc.cli("edit", key, "--why", "w", "--risk", "r", "--test-plan", "t",
                   "--rollback-plan", "b").code == 0
    for n in ("1", "2"):
        assert svc.cli("check", key, n).code == 0
    assert svc.cli("submit", key).code == 0
    assert svc.cli("approve", key, actor="bob").code == 0


def _deployed(svc, key: str = "HF-1") -> None:
    _approved(svc, key)
    res = svc.cli("deploy", key, "--env", "production")
    assert res.code == 0, res.err


def test_a_rollback_to_an_unreviewed_tag_is_refused_and_production_is_unchanged(svc):
    _deployed(svc)
    _unreviewed_tag(svc)
    before = (_current(svc), _production(svc), _events(svc),
              svc.cli("deploys", "--json").json())
    for to in ("9.9.9", "v9.9.9"):
        res = svc.cli("rollback", "--env", "production", "--reason", "x", "--to", to)
        assert_one_line_error(res, 1, "9.9.9 never ran on production")
        assert "valid targets: 1.4.1 (" in res.err and "--break-glass" in res.err
        assert "1.4.2" not in res.err.split("valid targets:")[1]  # what runs now is no target
    assert (_current(svc), _production(svc), _events(svc),
            svc.cli("deploys", "--json").json()) == before
    assert _production(svc)["locked"] is False


def test_a_release_another_environment_ran_is_no_rollback_target(svc):
    approved_hotfix(svc)
    assert svc.cli("deploy", "HF-1", "--env", "scripted").code == 0  # 1.4.2 ran on scripted
    _deployed(svc, "HF-2")  # production: 1.4.1 → 1.4.3
    res = svc.cli("rollback", "--env", "production", "--reason", "x", "--to", "1.4.2")
    assert_one_line_error(res, 1, "1.4.2 never ran on production (it ran on scripted)")
    assert _production(svc)["version"] == "1.4.3"


def test_adopt_needs_a_reason_and_an_adopted_release_is_a_target(svc):
    _unreviewed_tag(svc)
    assert_one_line_error(svc.cli("adopt", "--env", "scripted", "--ref", "v9.9.9"), 2,
                          "--reason")
    assert_one_line_error(svc.cli("adopt", "--env", "scripted", "--ref", "v9.9.9",
                                  "--reason", "  "), 1, "needs a --reason")
    # adopted on another environment: still not production's
    assert svc.cli("adopt", "--env", "scripted", "--ref", "v9.9.9", "--reason",
                   "what the old pipeline left there").code == 0
    _deployed(svc)
    res = svc.cli("rollback", "--env", "production", "--reason", "x", "--to", "9.9.9")
    assert_one_line_error(res, 1, "9.9.9 never ran on production (it ran on scripted)")
    # production's own history: what it was adopted at, with its reason
    listed = svc.cli("rollback", "--env", "production", "--reason", "x", "--to", "1.4.0")
    assert_one_line_error(listed, 1, "valid targets: 1.4.1 (adopted by alice: ")
    ok = svc.cli("rollback", "--env", "production", "--reason", "error rate up", "--to",
                 "v1.4.1")
    assert ok.code == 0, ok.err
    assert _current(svc).startswith("releases/1.4.1-")


def test_a_release_the_environment_ran_before_is_a_target(svc):
    _deployed(svc)  # 1.4.2
    _deployed(svc, "HF-2")  # 1.4.3
    res = svc.cli("rollback", "--env", "production", "--reason", "1.4.3 is slow", "--to",
                  "1.4.2", "--json")
    assert res.code == 0, res.err
    assert res.json()["version"] == "1.4.2" and res.json()["break_glass"] is False
    assert _current(svc).startswith("releases/1.4.2-")


def test_break_glass_reaches_an_unlisted_release_loudly(svc):
    _deployed(svc)
    sha = _unreviewed_tag(svc, "v1.3.9")
    res = svc.cli("rollback", "--env", "production", "--reason", "1.4.x corrupts carts",
                  "--to", "1.3.9", "--break-glass", "1.3.9 is the last release without "
                  "the cart bug", "--json")
    assert res.code == 0, res.err
    run = res.json()
    assert run["break_glass"] is True and run["sha"] == sha
    assert "BREAK-GLASS" in res.err
    assert _current(svc).startswith("releases/1.3.9-")
    prod = _production(svc)
    assert prod["version"] == "1.3.9" and prod["locked"] is True
    assert "BREAK-GLASS" in svc.cli("deploys").out
    timeline = svc.cli("timeline", "INC-1").out
    assert "BREAK-GLASS rollback" in timeline
    # whoever broke the glass does not lift the lock: someone else reviews it first
    assert_one_line_error(svc.cli("unlock", "--env", "production", "--reason", "fine"), 1,
                          "someone else must review it")
    assert svc.cli("unlock", "--env", "production", "--reason", "reviewed: 1.3.9 is sound",
                   actor="bob").code == 0
    assert svc.cli("audit", "verify").code == 0


def test_break_glass_rollback_follows_the_config(tmp_path):
    svc = deploy_repo(tmp_path, extra_config="[approvals]\nbreak_glass = false\n")
    _deployed(svc)
    _unreviewed_tag(svc)
    res = svc.cli("rollback", "--env", "production", "--reason", "x", "--to", "9.9.9",
                  "--break-glass", "urgent")
    assert_one_line_error(res, 1, "break-glass is disabled")
    assert _production(svc)["version"] == "1.4.2"
    assert svc.cli("deploys", "--json").items()[0]["kind"] == "deploy"


def test_break_glass_needs_a_release_tag_and_a_reason(svc):
    _deployed(svc)
    res = svc.cli("rollback", "--env", "production", "--reason", "x", "--to", "7.7.7",
                  "--break-glass", "urgent")
    assert_one_line_error(res, 1, "no release tag v7.7.7")
    _unreviewed_tag(svc)
    res = svc.cli("rollback", "--env", "production", "--reason", "x", "--to", "9.9.9",
                  "--break-glass", " ")
    assert_one_line_error(res, 1, "--break-glass needs a reason")
    assert _production(svc)["version"] == "1.4.2"


def test_every_read_asks_each_environment_from_indexes_not_its_whole_history(svc,
                                                                             monkeypatch):
    """The dashboard asks each environment where a rollback would go (its successful runs
    newest first, the releases rolled back from) and whether an interrupted run or a
    survivor holds it. A year of deploys is long: each question is answered from an
    index of schema V8, seen in the query plans of the statements the read runs."""
    from hotfix_tui import services

    _deployed(svc)
    _deployed(svc, "HF-2")
    boards = []
    plans = query_plans(monkeypatch, svc.path, lambda: boards.append(
        services.views.dashboard(services.open_context(repo=svc.path))), "deploys")
    assert boards[0].environments
    used = {detail.split("USING INDEX ")[1].split(" ")[0]
            for plan in plans for detail in plan if "USING INDEX " in detail}
    assert {"deploys_known_good", "deploys_rollbacks", "deploys_interrupted",
            "deploys_survivors"} <= used, used
