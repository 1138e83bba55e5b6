"""Shared fixtures for finish, missing, timeline, export and import: a real repository
with a production environment on the built-in local-symlink driver, and a hotfix taken
through the real CLI (alice authors, bob approves) as far as a test needs."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import CONFIG_FOR_TESTS, Result, ServiceRepo, commit_file, git, make_service_repo

# A change to tax() that main has not got, and that merges cleanly into main (which has
# since changed total() two lines above and reworked app/cart.py).
CLEAN_FIX = ("app/checkout.py", "    return amount * 0.2\n", "    return round(amount * 0.2, 2)\n",
             "Round tax to cents")
# A change to the line of app/cart.py that main rewrote: forward-porting it conflicts.
CONFLICTING_FIX = ("app/cart.py", "    return cart\n", "    return cart[:]\n",
                   "Return a copy of the cart")


@dataclass
class Release:
    svc: ServiceRepo
    srv: Path  # the production deploy path (local-symlink)

    @property
    def path(self) -> Path:
        return self.svc.path

    @property
    def db(self) -> Path:
        return self.path / ".git" / "hotfix" / "hotfix.db"

    def cli(self, *args: str, actor: str | None = "alice") -> Result:
        return self.svc.cli(*args, actor=actor)

    def ok(self, *args: str, actor: str | None = "alice") -> Result:
        res = self.cli(*args, actor=actor)
        assert res.code == 0, (args, res.out, res.err)
        return res

    def show(self, key: str = "HF-1") -> dict:
        return self.ok("show", key, "--json").json()

    def worktree(self, key: str = "HF-1") -> Path:
        return Path(self.show(key)["worktree"])

    def actions(self) -> list[str]:
        conn = sqlite3.connect(self.db)
        try:
            return [r[0] for r in conn.execute("SELECT action FROM audit_events ORDER BY id")]
        finally:
            conn.close()


def make_release_repo(tmp_path: Path, hotfix_section: str = "", extra: str = "") -> Release:
    srv = tmp_path / "srv"
    srv.mkdir()
    config = (CONFIG_FOR_TESTS + (f"\n[hotfix]\n{hotfix_section}\n" if hotfix_section else "")
              + f'\n[environments.production]\ndriver = "local-symlink"\npath = "{srv}"\n'
              + extra)
    svc = make_service_repo(tmp_path / "shop", config=config)
    rel = Release(svc, srv)
    rel.ok("incident", "open", "--title", "Checkout totals wrong", "--sev", "1",
           "--service", "checkout")
    return rel


def commit_fix(rel: Release, fix=CLEAN_FIX, key: str = "HF-1") -> str:
    """Commit `fix` (path, old text, new text, message) in the hotfix worktree."""
    path, old, new, message = fix
    wt = rel.worktree(key)
    text = (wt / path).read_text()
    assert old in text
    return commit_file(wt, path, text.replace(old, new), message)


def approved_hotfix(rel: Release, fix=CLEAN_FIX) -> str:
    """start → fix → document → tick → submit → approve (bob); returns the fix commit."""
    rel.ok("start", "--incident", "INC-1", "--title", fix[3])
    sha = commit_fix(rel, fix)
    document(rel)
    rel.ok("submit", "HF-1")
    rel.ok("approve", "HF-1", "--comment", "Looks right", actor="bob")
    return sha


def document(rel: Release, key: str = "HF-1") -> None:
    rel.ok("edit", key, "--why", "Tax is charged with fractions of a cent",
           "--risk", "Low: one expression", "--test-plan", "Unit test for rounding",
           "--rollback-plan", "Roll back to 1.4.1")
    for n in ("1", "2"):
        rel.ok("check", key, n)


def deploy(rel: Release, key: str = "HF-1") -> Result:
    return rel.cli("deploy", key, "--env", "production")


def verified_hotfix(tmp_path: Path, fix=CLEAN_FIX, hotfix_section: str = "") -> tuple[Release, str]:
    """A hotfix deployed to production and verified; returns it and its fix commit."""
    rel = make_release_repo(tmp_path, hotfix_section)
    sha = approved_hotfix(rel, fix)
    assert deploy(rel).code == 0
    rel.ok("verify", "HF-1", "--env", "production")
    assert rel.show()["state"] == "verified"
    return rel, sha


def repo_state(rel: Release) -> dict:
    """Everything a refused command must leave as it was."""
    conn = sqlite3.connect(rel.db)
    try:
        audit = conn.execute("SELECT count(*) FROM audit_events").fetchone()[0]
        hotfixes = conn.execute("SELECT key, state, tag, finish_state, skip_verify_reason "
                                "FROM hotfixes ORDER BY id").fetchall()
        incidents = conn.execute("SELECT * FROM incidents ORDER BY id").fetchall()
    finally:
        conn.close()
    return {
        "audit": audit,
        "hotfixes": hotfixes,
        "incidents": incidents,
        # branches and tags; the audit anchor (refs/hotfix/audit/*) moves with the audit count
        "refs": git(rel.path, "for-each-ref", "--format=%(refname) %(objectname)",
                    "refs/heads", "refs/tags", "refs/remotes"),
        "worktrees": git(rel.path, "worktree", "list", "--porcelain"),
        "checkout": (git(rel.path, "rev-parse", "HEAD"), git(rel.path, "status", "--porcelain")),
        "finish_dir": sorted(p.name for p in (rel.path / ".git" / "hotfix" / "finish").glob("*")),
    }
