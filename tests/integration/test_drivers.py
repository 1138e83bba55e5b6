"""The local-symlink driver, run as a real process (directly and by the runner)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hotfix_tui.clock import iso, utcnow
from hotfix_tui.core.models import RunStatus
from hotfix_tui.deploy.drivers import current_release
from hotfix_tui.deploy.runner import spawn, wait_finished
from hotfix_tui.store import open_store
from hotfix_tui.store.runs import insert_run, read_lines

PY = sys.executable
SHA1 = "1111111aaaaaaaabbbbbbbbccccccccdddddddd"
SHA2 = "2222222aaaaaaaabbbbbbbbccccccccdddddddd"


def driver(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PY, "-m", "hotfix_tui.deploy.drivers", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def symlink_deploy(app: Path, version: str, sha: str, source: Path,
                   use_cwd: bool = False) -> subprocess.CompletedProcess[str]:
    args = ["local-symlink", "--path", str(app), "--version", version, "--sha", sha]
    if use_cwd:
        return driver(*args, cwd=source)
    return driver(*args, "--source", str(source))


def make_source(path: Path, content: str) -> Path:
    (path / "lib").mkdir(parents=True)
    (path / "app.py").write_text(content)
    (path / "lib" / "util.py").write_text("X = 1\n")
    (path / ".git").write_text("gitdir: /somewhere/.git/worktrees/hf\n")  # a worktree's .git
    (path / "lib" / ".git").mkdir()  # and a nested one
    (path / "lib" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return path


def assert_one_line_error(res: subprocess.CompletedProcess[str], contains: str) -> None:
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert contains in lines[0]
    assert "Traceback" not in res.stderr


def test_deploy_then_upgrade_then_roll_back(tmp_path):
    app = tmp_path / "app"
    v1 = make_source(tmp_path / "src1", "VERSION = 1\n")
    v2 = make_source(tmp_path / "src2", "VERSION = 2\n")

    res = symlink_deploy(app, "v1", SHA1, v1, use_cwd=True)
    assert res.returncode == 0, res.stderr
    assert current_release(app) == "v1-1111111"
    assert os.readlink(app / "current") == "releases/v1-1111111"
    assert (app / "current" / "app.py").read_text() == "VERSION = 1\n"
    assert not (app / "current" / ".git").exists()
    assert not (app / "current" / "lib" / ".git").exists()
    assert (app / "current" / "lib" / "util.py").exists()
    steps = res.stdout.splitlines()
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ", line) for line in steps)
    assert "copying 2 files" in res.stdout and "done:" in steps[-1]

    # While current is repointed, a reader always finds a release behind it.
    stop, misses = threading.Event(), []

    def watch() -> None:
        while not stop.is_set():
            try:
                (app / "current" / "app.py").stat()
            except OSError as exc:
                misses.append(exc)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        res = symlink_deploy(app, "v2", SHA2, v2)
        assert res.returncode == 0, res.stderr
        assert current_release(app) == "v2-2222222"
        assert (app / "current" / "app.py").read_text() == "VERSION = 2\n"

        marker = app / "releases" / "v1-1111111" / "marker"
        marker.write_text("left by the first deploy\n")
        res = symlink_deploy(app, "v1", SHA1, v1)
        assert res.returncode == 0, res.stderr
    finally:
        stop.set()
        watcher.join()
    assert misses == []
    assert "reusing it (not copied)" in res.stdout and "copying" not in res.stdout
    assert marker.exists()  # the release was reused as it was, not copied again
    assert current_release(app) == "v1-1111111"
    assert (app / "current" / "app.py").read_text() == "VERSION = 1\n"
    assert sorted(p.name for p in app.iterdir()) == ["current", "releases"]
    assert sorted(p.name for p in (app / "releases").iterdir()) == ["v1-1111111", "v2-2222222"]


def test_current_release_without_a_deploy(tmp_path):
    assert current_release(tmp_path) is None
    assert current_release(tmp_path / "missing") is None


@pytest.mark.parametrize("setup, contains", [
    ("file", "cannot create"),
    ("no-parent", "No such file or directory"),
    ("current-is-a-dir", "is not a symlink"),
])
def test_a_bad_path_is_one_line_error(tmp_path, setup, contains):
    src = make_source(tmp_path / "src", "VERSION = 1\n")
    if setup == "file":
        (tmp_path / "file").write_text("x")
        app = tmp_path / "file" / "app"
    elif setup == "no-parent":
        app = tmp_path / "missing" / "app"
    else:
        app = tmp_path / "app"
        (app / "current").mkdir(parents=True)
    res = symlink_deploy(app, "v1", SHA1, src)
    assert_one_line_error(res, contains)


@pytest.mark.parametrize("args, contains", [
    (["local-symlink", "--path", "x", "--version", "v1"], "--sha"),
    (["local-symlink", "--path", "x", "--version", "../v1", "--sha", SHA1], "invalid version"),
    (["local-symlink", "--path", "x", "--version", "v1", "--sha", "zzz"], "invalid sha"),
    (["local-symlink", "--path", "x", "--version", "v1", "--sha", SHA1,
      "--source", "/no/such/source"], "not a directory"),
    (["teleport"], "invalid choice"),
])
def test_bad_arguments_are_one_line_errors(tmp_path, args, contains):
    res = driver(*args, cwd=tmp_path)
    assert_one_line_error(res, contains)
    assert not (tmp_path / "x").exists()


def test_the_runner_runs_the_driver(tmp_path):
    app = tmp_path / "app"
    src = make_source(tmp_path / "src", "VERSION = 1\n")
    db = str(tmp_path / "x.db")
    store = open_store(db)
    try:
        with store.write():
            row = insert_run(
                store, env="production", kind="deploy", workdir=str(src), started_by="alice",
                started_by_verified=True, started_at=iso(utcnow()), version="v1", sha=SHA1,
                argv=[PY, "-m", "hotfix_tui.deploy.drivers", "local-symlink", "--path",
                      str(app), "--version", "v1", "--sha", SHA1])
        spawn(db, row["id"])
        run = wait_finished(db, row["id"], timeout=30)
        assert run.status is RunStatus.SUCCEEDED
        texts = [ln.text for ln in read_lines(store, row["id"]) if ln.stream == "out"]
        assert any("copying 2 files" in t for t in texts)
        assert "done: v1-1111111 is live" in texts[-1]
        assert current_release(app) == "v1-1111111"
        env = store.one("SELECT version, sha FROM environments WHERE name = 'production'")
        assert (env["version"], env["sha"]) == ("v1", SHA1)
    finally:
        store.close()
