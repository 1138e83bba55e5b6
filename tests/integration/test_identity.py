"""The acting user comes from the OS account; HOTFIX_ACTOR only where allowed."""

from __future__ import annotations

import pwd
from pathlib import Path

from tests.helpers import git, run_proc

ME = pwd.getpwuid(__import__("os").getuid()).pw_name


def _open(repo: Path, env: dict) -> dict:
    res = run_proc(["incident", "open", "--title", "t", "--sev", "2", "--json"], cwd=repo,
                   env=env)
    assert res.code == 0, res.err
    return res


def test_user_and_logname_are_ignored(repo: Path):
    res = _open(repo, {"USER": "someone-else", "LOGNAME": "someone-else"})
    inc = res.json()
    assert inc["opened_by"] == ME and inc["opened_by_verified"] is True
    assert inc["commander"] == ME


def test_override_ignored_without_permission(repo: Path):
    res = _open(repo, {"HOTFIX_ACTOR": "mallory"})
    assert res.json()["opened_by"] == ME
    assert "HOTFIX_ACTOR ignored" in res.err


def test_override_honoured_and_marked_when_allowed(repo: Path):
    (repo / ".hotfix.toml").write_text("[identity]\nallow_override = true\n")
    git(repo, "add", ".hotfix.toml")
    git(repo, "commit", "-q", "-m", "allow identity override for the demo")
    inc = _open(repo, {"HOTFIX_ACTOR": "bob", "USER": "carol"}).json()
    assert inc["opened_by"] == "bob" and inc["opened_by_verified"] is False
    text = run_proc(["incident", "show", inc["key"]], cwd=repo)
    assert "bob (unverified)" in text.out
    events = run_proc(["--repo", str(repo), "audit", "verify", "--json"], cwd=repo).json()
    assert events["ok"]
    import sqlite3

    conn = sqlite3.connect(repo / ".git" / "hotfix" / "hotfix.db")
    row = conn.execute("SELECT actor, actor_verified, data FROM audit_events").fetchone()
    assert row[0] == "bob" and row[1] == 0 and f'"os_account":"{ME}"' in row[2]
