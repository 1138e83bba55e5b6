"""Two real Unix accounts sharing one clone, set up by the README's bastion steps, each
running `hotfix` the way a non-interactive ssh session does (umask 0022, no git
identity). One test per way this used to fail."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import uuid
from pathlib import Path

import pytest

from tests.accounts import Team, bastion_setup, make_team, sh
from tests.helpers import make_service_repo, wait_for

SLOW = "#!/bin/sh\necho started\nexec sleep 600\n"
DEPLOY = "#!/bin/sh\nfor i in 1 2 3; do echo \"step $i\"; done\n"
CONFIG = """\
[scope]
max_files = 5
max_lines = 50
checklist = ["Root cause understood", "Rollback plan tested or obvious"]

[environments.production]
deploy = ["./ops/deploy.sh"]
cancel_grace_s = 1

[environments.staging]
deploy = ["./ops/slow.sh"]
requires_approval = false
cancel_grace_s = 1
"""


@pytest.fixture(scope="module")
def team():
    gen = make_team()
    yield next(gen)
    gen.close()


@pytest.fixture
def origin(team: Team) -> Path:
    return make_service_repo(team.root / f"origin-{uuid.uuid4().hex[:6]}", config=CONFIG,
                             extra={"ops/deploy.sh": DEPLOY, "ops/slow.sh": SLOW}).path


def ok(res) -> str:
    assert res.returncode == 0, (res.returncode, res.stdout, res.stderr)
    return res.stdout


def one_line_error(res, *needles: str) -> str:
    assert res.returncode == 1, (res.returncode, res.stdout, res.stderr)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def group_writable(path: Path, gid: int) -> bool:
    st = path.lstat()
    return bool(st.st_mode & stat.S_IWGRP) and st.st_gid == gid


def start_hotfix(team: Team, shop: Path) -> None:
    ok(team.run(team.alice, "incident", "open", "--title", "Checkout fails", "--sev", "1",
                cwd=shop))
    ok(team.run(team.alice, "start", "--incident", "INC-1", "--title", "Fix totals",
                cwd=shop))


def test_the_database_is_group_writable_whatever_the_umask(team, origin):
    shop = bastion_setup(team, origin)
    ok(team.run(team.alice, "incident", "open", "--title", "Checkout fails", "--sev", "1",
                cwd=shop))
    db = shop / ".git" / "hotfix" / "hotfix.db"
    for path in (db, db.parent, *db.parent.glob("hotfix.db-*")):
        assert group_writable(path, team.gid), (path, oct(path.stat().st_mode))
    assert db.parent.stat().st_mode & stat.S_ISGID
    listed = ok(team.run(team.bob, "incident", "list", "--json", cwd=shop))
    assert '"INC-1"' in listed
    ok(team.run(team.bob, "incident", "open", "--title", "Payments slow", "--sev", "2",
                cwd=shop))
    ok(team.run(team.alice, "incident", "mitigate", "INC-2", cwd=shop))


def test_sidecars_left_narrow_by_another_account_do_not_lock_out_the_owner(team, origin):
    shop = bastion_setup(team, origin)
    db = shop / ".git" / "hotfix" / "hotfix.db"
    db.parent.mkdir()
    db.parent.chmod(0o2775)
    os.chown(db.parent, -1, team.gid)
    # A database made before shared mode: 0644, owned by alice.
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    os.chown(db, team.alice.uid, team.gid)
    db.chmod(0o644)
    ok(team.run(team.alice, "incident", "open", "--title", "First", "--sev", "1", cwd=shop))
    # Bob, holding the database open, leaves -wal and -shm with his own 0644 mode...
    for suffix in ("-wal", "-shm"):
        side = Path(f"{db}{suffix}")
        side.unlink(missing_ok=True)
        side.write_bytes(b"")
        os.chown(side, team.bob.uid, team.gid)
        side.chmod(0o644)
    # ...and the admin opens the database itself to the group.
    db.chmod(0o664)
    ok(team.run(team.alice, "incident", "open", "--title", "Second", "--sev", "2", cwd=shop))
    ok(team.run(team.bob, "incident", "open", "--title", "Third", "--sev", "2", cwd=shop))
    for suffix in ("-wal", "-shm"):
        side = Path(f"{db}{suffix}")
        if side.exists():
            assert group_writable(side, team.gid), (side, oct(side.stat().st_mode))
    titles = sqlite3.connect(db).execute("SELECT title FROM incidents ORDER BY id").fetchall()
    assert [t for (t,) in titles] == ["First", "Second", "Third"]


def test_sidecars_in_use_are_named_with_the_fix(team, origin):
    shop = bastion_setup(team, origin)
    ok(team.run(team.alice, "incident", "open", "--title", "First", "--sev", "1", cwd=shop))
    db = shop / ".git" / "hotfix" / "hotfix.db"
    holder = sqlite3.connect(db)  # someone has the database open
    holder.execute("SELECT count(*) FROM incidents").fetchall()
    shm = Path(f"{db}-shm")
    try:
        os.chown(shm, team.bob.uid, team.gid)
        shm.chmod(0o644)
        line = one_line_error(team.run(team.alice, "incident", "list", cwd=shop),
                              str(shm), team.bob.name)
        assert "chmod 664" in line
    finally:
        holder.close()


def test_folders_made_under_a_0022_umask_are_group_writable(team, origin):
    shop = bastion_setup(team, origin)
    start_hotfix(team, shop)
    made = [p for p in (shop / ".git").rglob("*")
            if p.lstat().st_uid in (team.alice.uid, team.bob.uid)
            and "objects" not in p.relative_to(shop / ".git").parts]
    worktree = next((shop / ".git" / "hotfix" / "worktrees").iterdir())
    assert worktree in made and worktree / "app" / "checkout.py" in made
    bad = [p for p in made if not p.is_symlink() and not group_writable(p, team.gid)]
    assert bad == []
    dirs = [p for p in made if p.is_dir() and not p.is_symlink()]
    assert all(p.stat().st_mode & stat.S_ISGID for p in dirs)


def test_git_refusing_the_clone_is_said_as_what_it_is(team, origin):
    shop = bastion_setup(team, origin, skip=("safe.directory",))
    for args in (["adopt", "--env", "production", "--ref", "v1.4.1", "--reason", "r"],
                 ["start", "--incident", "INC-1", "--title", "x"]):
        if args[0] == "start":
            ok(team.run(team.bob, "incident", "open", "--title", "t", "--sev", "1", cwd=shop))
        line = one_line_error(team.run(team.bob, *args, cwd=shop), "git refuses the "
                              "repository", "safe.directory", str(shop))
        assert "unknown" not in line
    res = team.run(team.bob, "doctor", cwd=shop)
    assert res.returncode == 1
    assert f"fix: sudo git config --system --add safe.directory {shop}" in res.stdout


def test_a_hand_off_into_another_accounts_worktree(team, origin):
    shop = bastion_setup(team, origin)
    start_hotfix(team, shop)
    fix = sh("git", "-C", str(origin), "log", "--format=%H", "-1", "--grep", "quantity").stdout
    res = team.run(team.bob, "pick", "HF-1", fix.strip(), cwd=shop)
    out = ok(res)
    assert "conflict" not in (out + res.stderr).lower()
    notes = [ln for ln in res.stderr.splitlines() if ln.startswith("note: ")]
    assert len(notes) == 1 and "no identity" in notes[0], res.stderr
    worktree = next((shop / ".git" / "hotfix" / "worktrees").iterdir())
    env = {"GIT_CONFIG_SYSTEM": str(team.gitconfig), "PATH": os.environ["PATH"]}
    log = sh("git", "-c", f"safe.directory={worktree}", "-C", str(worktree), "log", "-1",
             "--format=%an|%cn|%ce", env=env).stdout.strip()
    author, committer, email = log.split("|")
    assert author == "Test Author"  # a pick keeps the fix's author
    assert committer == "Bob Example" and email.startswith(f"{team.bob.name}@")
    ok(team.run(team.bob, "check", "HF-1", "1", cwd=shop))
    ok(team.run(team.alice, "check", "HF-1", "2", cwd=shop))
    doctor = team.run(team.bob, "doctor", cwd=shop)
    assert doctor.returncode == 0, doctor.stdout
    assert "hotfix worktrees" in doctor.stdout


def _row(db: Path, key: str) -> sqlite3.Row:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM deploys WHERE key = ?", (key,)).fetchone()
    finally:
        conn.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_cancelling_another_accounts_orphaned_command(team, origin):
    shop = bastion_setup(team, origin)
    start_hotfix(team, shop)
    ok(team.run(team.alice, "deploy", "HF-1", "--env", "staging", "--detach", "--break-glass",
                "drill", cwd=shop))
    db = shop / ".git" / "hotfix" / "hotfix.db"
    wait_for(lambda: _row(db, "D-1")["pgid"] and _row(db, "D-1")["lines"] >= 1,
          "the command to start")
    row = _row(db, "D-1")
    pgid, runner = row["pgid"], row["pid"]
    os.kill(runner, signal.SIGKILL)  # the runner dies; its command runs on as alice
    wait_for(lambda: not _alive(runner), "the runner to die")
    wait_for(lambda: '"interrupted"' in team.run(team.bob, "log", "D-1", "--json",
                                                 cwd=shop).stdout, "the run to read as lost")
    line = one_line_error(team.run(team.bob, "cancel", "D-1", cwd=shop), team.alice.name,
                          "hotfix cancel D-1", f"kill -TERM -- -{pgid}")
    assert "internal error" not in line
    assert _alive(pgid), "bob's refusal must leave alice's command alone"
    ok(team.run(team.alice, "cancel", "D-1", cwd=shop))
    assert not _alive(pgid)


def test_doctor_names_each_problem_with_its_fix(team, origin):
    shop = bastion_setup(team, origin)
    ok(team.run(team.alice, "incident", "open", "--title", "First", "--sev", "1", cwd=shop))
    db = shop / ".git" / "hotfix" / "hotfix.db"
    healthy = team.run(team.bob, "doctor", "--json", cwd=shop)
    assert healthy.returncode == 0, healthy.stdout
    import json

    report = json.loads(healthy.stdout)
    assert report["ok"] is True and report["account"] == team.bob.name
    names = {c["name"] for c in report["checks"]}
    assert {"shared mode", "group", "database", "git repository", "git identity", "tmux",
            "TERM", "sqlite", "clock"} <= names
    holder = sqlite3.connect(db)  # in use, so the doctor may not repair it either
    holder.execute("SELECT count(*) FROM incidents").fetchall()
    shm = Path(f"{db}-shm")
    try:
        os.chown(shm, team.bob.uid, team.gid)
        shm.chmod(0o644)
        sick = team.run(team.alice, "doctor", cwd=shop)
        assert sick.returncode == 1
        line = next(ln for ln in sick.stdout.splitlines() if "-shm" in ln)
        assert line.startswith("FAIL") and "0644" in line
        assert f"fix: sudo chmod 664 {shm}" in sick.stdout
    finally:
        holder.close()
    # An account outside the group is told how to join it.
    sh("gpasswd", "-d", team.bob.name, team.group)
    try:
        res = team.run(team.bob, "doctor", cwd=shop)
        assert res.returncode == 1
        assert f"fix: sudo usermod -aG {team.group} {team.bob.name}" in res.stdout
    finally:
        sh("usermod", "-aG", team.group, team.bob.name)
