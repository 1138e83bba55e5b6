"""The two-person rule holds by OS account, not by display name.

The author is the OS account that did the work: it never approves what it authored,
under any name or case, with overrides allowed or not; an account counts once towards
`required`, however many names it uses. Other accounts are real processes whose real uid
is another account (`nobody`, `daemon`): hotfix reads who acts from the kernel (getuid),
so that is what it sees. (Their effective uid stays root so that they can write the
test's files, which are root's; the temporary folders are made traversable for the
test, as the kernel checks access() against the real uid. This needs root.)
"""

from __future__ import annotations

import os
import pwd
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.helpers import GIT_ENV, Result, assert_one_line_error, git, make_service_repo

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
    assert svc.cli("queue", "--json", actor="bob").json() == []


def test_after_overrides_are_turned_off_the_author_still_cannot_approve(tmp_path):
    svc = _service(tmp_path)
    cfg = svc.path / ".hotfix.toml"
    cfg.write_text(cfg.read_text().replace("allow_override = true", "allow_override = false"))
    git(svc.path, "commit", "-qam", "No more overrides")
    res = svc.cli("approve", "HF-1", actor=None)  # its own name, a verified approval
    assert_one_line_error(res, 1, "you authored HF-1")
    assert _approval_rows(svc) == 0


def _as_account(user: str, svc, *args: str, actor: str | None = None) -> Result:
    """`hotfix ARGS` as a process whose real uid is `user`'s (HOTFIX_ACTOR=`actor`)."""
    import subprocess

    entry = pwd.getpwnam(user)
    shared = svc.path / ".git" / "hotfix"  # one database for every account, as on a bastion
    for p in [shared, *shared.iterdir()]:
        p.chmod(0o777 if p.is_dir() else 0o666)
    env = {**os.environ, **GIT_ENV, "HOME": str(svc.path.parent)}
    env.pop("HOTFIX_ACTOR", None)
    if actor:
        env["HOTFIX_ACTOR"] = actor
    proc = subprocess.run([sys.executable, "-m", "hotfix_tui", *args], cwd=svc.path, env=env,
                          capture_output=True, text=True, timeout=60,
                          preexec_fn=lambda: _become(entry))
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _become(entry: pwd.struct_passwd) -> None:
    """Real uid and gid (and groups) of the account; effective ones stay root's."""
    os.setgroups([entry.pw_gid])
    os.setresgid(entry.pw_gid, 0, 0)
    os.setresuid(entry.pw_uid, 0, 0)


def _account_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not all(map(_account_exists, ("nobody", "daemon"))),
    reason="starting a process as another account needs root and the accounts nobody and "
           "daemon")


@pytest.fixture
def reachable(tmp_path: Path):
    """tmp_path and the folders above it traversable by other accounts, for the test."""
    saved = []
    for p in [tmp_path, *tmp_path.parents]:
        mode = p.stat().st_mode
        if not mode & 0o001:
            saved.append((p, mode))
            p.chmod(mode | 0o005)
    yield tmp_path
    for p, mode in saved:
        p.chmod(mode & 0o7777)


@needs_root
def test_one_account_counts_once_whatever_names_it_uses(reachable):
    tmp_path = reachable
    svc = _service(tmp_path, required=2)
    for n in range(1, 9):
        res = _as_account("nobody", svc, "approve", "HF-1", actor=f"bob{n}")
        assert res.code == 0, res.err
    shown = svc.cli("show", "HF-1", "--json").json()
    assert shown["state"] == "in_review"  # eight names, one account: 1 of 2
    assert [a["approver"] for a in shown["approvals"]] == ["bob1"]  # a person counts once
    assert shown["approvals"][0]["approver_account"] == "nobody"
    text = svc.cli("show", "HF-1").out
    assert "bob1 (unverified, OS account nobody)" in text and "approvals:  1/2" in text
    res = _as_account("daemon", svc, "approve", "HF-1")
    assert res.code == 0, res.err
    shown = svc.cli("show", "HF-1", "--json").json()
    assert shown["state"] == "approved"
    assert [(a["approver"], a["approver_account"], a["counts"]) for a in
            shown["approvals"]] == [("bob1", "nobody", True), ("daemon", "daemon", True)]


@needs_root
def test_an_account_that_reached_the_table_twice_counts_once(reachable):
    """Even rows that got in (an earlier version, a race): one account, one count."""
    svc = _service(reachable, required=2)
    assert _as_account("nobody", svc, "approve", "HF-1", actor="bob").code == 0
    conn = sqlite3.connect(svc.path / ".git" / "hotfix" / "hotfix.db")
    conn.execute("INSERT INTO approvals (hotfix_id, approver, approver_account, "
                 "approver_verified, decision, head_sha, tree_sha, checklist_hash, doc_hash, "
                 "config_hash, at) SELECT hotfix_id, 'carol', approver_account, 0, decision, "
                 "head_sha, tree_sha, checklist_hash, doc_hash, config_hash, at "
                 "FROM approvals")
    conn.commit()
    conn.close()
    shown = svc.cli("show", "HF-1", "--json").json()
    assert [a["counts"] for a in shown["approvals"]] == [True, False]
    assert shown["state"] == "in_review"
