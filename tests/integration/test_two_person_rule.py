"""The two-person rule holds by OS account, not by display name.

The author is the OS account that did the work: it never approves what it authored,
under any name or case, with overrides allowed or not; an account counts once towards
`required`, however many names it uses. Where other accounts matter they are real
(tests/accounts: useradd, the README's bastion set-up); that needs root.
"""

from __future__ import annotations

import json
import os
import pwd
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import assert_one_line_error, git, make_service_repo

ME = pwd.getpwuid(os.getuid()).pw_name
OVERRIDES = """\
[identity]
allow_override = true

[approvals]
required = {required}

[scope]
checklist = ["Root cause understood"]
"""


def _service(tmp_path: Path, required: int = 1):
    svc = make_service_repo(tmp_path / "shop", config=OVERRIDES.format(required=required))
    assert svc.cli("incident", "open", "--title", "Totals wrong", "--sev", "1").code == 0
    assert svc.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    assert svc.cli("pick", "HF-1", svc.fix).code == 0
    assert svc.cli("edit", "HF-1", "--why", "w", "--risk", "r", "--test-plan", "t",
                   "--rollback-plan", "b").code == 0
    assert svc.cli("check", "HF-1", "1").code == 0
    assert svc.cli("submit", "HF-1").code == 0
    return svc


def _approval_rows(svc) -> int:
    conn = sqlite3.connect(svc.path / ".git" / "hotfix" / "hotfix.db")
    try:
        return conn.execute("SELECT count(*) FROM approvals").fetchone()[0]
    finally:
        conn.close()


def test_the_author_account_never_approves_under_another_name_or_case(tmp_path):
    """`alice` is this OS account: as ROOT, as bob, as Alice, as itself, it is refused."""
    svc = _service(tmp_path)
    for name in (ME.upper(), "bob", "Alice", "ALICE", ME, None):
        res = svc.cli("approve", "HF-1", actor=name)
        assert_one_line_error(res, 1, "you authored HF-1")
        assert f"OS account {ME}" in res.err
    assert _approval_rows(svc) == 0
    shown = svc.cli("show", "HF-1", "--json").json()
    assert (shown["author"], shown["author_verified"], shown["author_account"]) == (
        "alice", False, ME)
    assert svc.cli("queue", "--json", actor="bob").items() == []


def test_after_overrides_are_turned_off_the_author_still_cannot_approve(tmp_path):
    svc = _service(tmp_path)
    cfg = svc.path / ".hotfix.toml"
    cfg.write_text(cfg.read_text().replace("allow_override = true", "allow_override = false"))
    git(svc.path, "commit", "-qam", "No more overrides")
    res = svc.cli("approve", "HF-1", actor=None)  # its own name, a verified approval
    assert_one_line_error(res, 1, "you authored HF-1")
    assert _approval_rows(svc) == 0


# ---- real accounts (tests/accounts: useradd, the README's bastion steps) ---------------

TEAM_CONFIG = OVERRIDES.format(required=2)


@pytest.fixture(scope="module")
def team():
    from tests.accounts import make_team

    gen = make_team()
    yield next(gen)
    gen.close()


def _shared(team) -> Path:
    """The README's shared clone of a service; alice (a real account) authors HF-1."""
    import uuid

    from tests.accounts import bastion_setup

    origin = make_service_repo(team.root / f"origin-{uuid.uuid4().hex[:6]}",
                               config=TEAM_CONFIG).path
    shop = bastion_setup(team, origin)
    for args in (["incident", "open", "--title", "Totals wrong", "--sev", "1"],
                 ["start", "--incident", "INC-1", "--title", "Fix totals"]):
        _ok(team.run(team.alice, *args, cwd=shop))
    _ok(team.run(team.alice, "pick", "HF-1", _fix_commit(shop), cwd=shop))
    _ok(team.run(team.alice, "edit", "HF-1", "--why", "w", "--risk", "r", "--test-plan", "t",
                 "--rollback-plan", "b", cwd=shop))
    _ok(team.run(team.alice, "check", "HF-1", "1", cwd=shop))
    _ok(team.run(team.alice, "submit", "HF-1", cwd=shop))
    return shop


def _ok(res) -> str:
    assert res.returncode == 0, (res.returncode, res.stdout, res.stderr)
    return res.stdout


def _show(team, shop) -> dict:
    return json.loads(_ok(team.run(team.bob, "show", "HF-1", "--json", cwd=shop)))


def test_one_account_counts_once_whatever_names_it_uses(team):
    shop = _shared(team)
    alice, bob = team.alice.name, team.bob.name
    for n in range(1, 9):
        _ok(team.run(team.bob, "approve", "HF-1", cwd=shop,
                     extra_env={"HOTFIX_ACTOR": f"bob{n}"}))
    shown = _show(team, shop)
    assert shown["author_account"] == alice
    assert shown["state"] == "in_review"  # eight names, one account: 1 of 2
    assert [(a["approver"], a["approver_account"]) for a in shown["approvals"]] == [
        ("bob1", bob)]  # a person counts once: the other seven were not even recorded
    text = _ok(team.run(team.bob, "show", "HF-1", cwd=shop))
    assert f"bob1 (unverified, OS account {bob})" in text and "approvals:  1/2" in text
    # alice, under any name, is still the author
    for name in ("carol", bob, alice.upper()):
        res = team.run(team.alice, "approve", "HF-1", cwd=shop, extra_env={"HOTFIX_ACTOR": name})
        assert res.returncode == 1 and "you authored HF-1" in res.stderr, res.stderr
    # a second account makes two
    res = subprocess.run([sys.executable, "-m", "hotfix_tui", "approve", "HF-1"], cwd=shop,
                         env=_root_env(team), capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    shown = _show(team, shop)
    assert shown["state"] == "approved"
    assert [(a["approver_account"], a["counts"]) for a in shown["approvals"]] == [
        (bob, True), (ME, True)]


def _root_env(team) -> dict:
    from tests.accounts import root_git_env

    env = root_git_env(team)
    env.pop("HOTFIX_ACTOR", None)
    return env


def _fix_commit(shop: Path) -> str:
    return git(shop, "log", "--format=%H", "-1", "--grep", "Fix checkout total", "origin/main")
