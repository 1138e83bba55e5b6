"""Bad input to the git commands: one line, exit 1, nothing created."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.helpers import assert_one_line_error, git, init_repo, make_service_repo, run


@pytest.fixture
def svc(tmp_path: Path):
    r = make_service_repo(tmp_path / "shop")
    assert r.cli("incident", "open", "--title", "Checkout totals wrong", "--sev", "1").code == 0
    return r


def _state(repo: Path) -> tuple:
    db = repo / ".git" / "hotfix" / "hotfix.db"
    conn = sqlite3.connect(db)
    counts = (conn.execute("SELECT count(*) FROM hotfixes").fetchone()[0],
              conn.execute("SELECT count(*) FROM audit_events").fetchone()[0])
    conn.close()
    return (git(repo, "for-each-ref", "--format=%(refname)"), git(repo, "worktree", "list"),
            counts, sorted(p.name for p in (repo / ".git" / "hotfix").iterdir()))


BAD_REFS = [
    ("--upload-pack=x", "must not start with '-'"),
    ("-x", "must not start with '-'"),
    ("a..b", "contains '..'"),
    ("@{-1}", "contains '@{'"),
    ("x.lock", "ending with '.lock'"),
    ("v1.4.1 x", "contains a space"),
    ("v1.4\x01", "control character"),
    ("v9.9.9", "unknown base ref"),
    ("deadbeef", "unknown base ref"),
]


@pytest.mark.parametrize(("ref", "message"), BAD_REFS, ids=[r for r, _ in BAD_REFS])
def test_bad_base_refs_create_nothing(svc, ref, message):
    before = _state(svc.path)
    res = svc.cli("start", "--incident", "INC-1", "--title", "t", f"--base={ref}")
    assert_one_line_error(res, 1, message)
    assert _state(svc.path) == before


@pytest.mark.parametrize(("ref", "message"), BAD_REFS[:7] + [("v9.9.9", "unknown commit")],
                         ids=[r for r, _ in BAD_REFS[:8]])
def test_bad_commits_to_pick_change_nothing(svc, ref, message):
    assert svc.cli("start", "--incident", "INC-1", "--title", "t").code == 0
    before = _state(svc.path)
    wt_head = git(Path(svc.cli("show", "HF-1", "--json").json()["worktree"]), "rev-parse", "HEAD")
    res = svc.cli("pick", "HF-1", "--", ref)
    assert_one_line_error(res, 1, message)
    assert _state(svc.path) == before
    shown = svc.cli("show", "HF-1", "--json").json()
    assert git(Path(shown["worktree"]), "rev-parse", "HEAD") == wt_head


def test_pick_into_a_worktree_with_changes_names_them_and_changes_nothing(svc):
    """What `git status` reports (a change, a rename, an untracked file whose name has a
    space) is named, in git's order; nothing is picked or recorded."""
    assert svc.cli("start", "--incident", "INC-1", "--title", "t").code == 0
    wt = Path(svc.cli("show", "HF-1", "--json").json()["worktree"])
    tracked = git(wt, "ls-files").splitlines()[:2]
    (wt / tracked[0]).write_text("edited by hand\n")
    git(wt, "mv", tracked[1], "moved.txt")
    (wt / "notes for me.txt").write_text("x\n")
    head = git(wt, "rev-parse", "HEAD")
    before = _state(svc.path)
    res = svc.cli("pick", "HF-1", svc.fix)
    assert_one_line_error(res, 1, "HF-1: the worktree has uncommitted changes: ")
    named = res.err.split("uncommitted changes: ", 1)[1].strip().split(", ")
    assert sorted(named) == sorted([tracked[0], "moved.txt", "notes for me.txt"])
    assert _state(svc.path) == before
    assert git(wt, "rev-parse", "HEAD") == head


@pytest.mark.parametrize("rng", ["main~3..main", "v1.4.0...main", "main~2..", "..main"])
def test_a_commit_range_is_called_a_range(svc, rng):
    """Not "contains '~'": the user gave a range, and is told how to give its commits."""
    assert svc.cli("start", "--incident", "INC-1", "--title", "t").code == 0
    before = _state(svc.path)
    res = svc.cli("pick", "HF-1", rng)
    assert_one_line_error(res, 1, "a range is not a commit; give the commits one by one")
    assert _state(svc.path) == before


def test_unknown_incident(svc):
    before = _state(svc.path)
    assert_one_line_error(svc.cli("start", "--incident", "INC-7", "--title", "t"), 1,
                          "unknown incident INC-7")
    assert _state(svc.path) == before


def test_not_a_git_repository(tmp_path: Path):
    res = run(["--db", str(tmp_path / "x.db"), "start", "--incident", "INC-1", "--title", "t"],
              cwd=tmp_path)
    assert_one_line_error(res, 1, "not a git repository")
    assert not (tmp_path / "x.db").exists()


def test_bare_repository(tmp_path: Path, svc):
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(svc.path), str(bare))
    res = run(["--db", str(tmp_path / "x.db"), "start", "--incident", "INC-1", "--title", "t"],
              cwd=bare)
    assert_one_line_error(res, 1, "bare repository")
    res = run(["--repo", str(bare), "incident", "list"], cwd=tmp_path)
    assert_one_line_error(res, 1, "bare repository")
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize(("text", "names"), [
    ("[scope]\nmax_files = \"ten\"\n", ".hotfix.toml:2: scope.max_files"),
    ("[scope]\nbudget = 3\n", "scope.budget: unknown key"),
    ("[hotfix]\ntag_format = \"release\"\n", "hotfix.tag_format"),
    ("[approvals]\nrequired = true\n", "approvals.required"),
    ("[nonsense]\nx = 1\n", "nonsense: unknown section"),
    ("[scope\n", "not valid TOML"),
    ("[environments.prod]\ndeploy = [\"./d.sh\", \"{sah}\"]\n", "unknown placeholder {sah}"),
    # refused when read, not when `start` formats the tag (an internal error, or 1.5 GB)
    ("[hotfix]\ntag_format = \"v{version}-{sha}\"\n", ".hotfix.toml:2: hotfix.tag_format"),
    ("[hotfix]\ntag_format = \"v{version}{0}\"\n", ".hotfix.toml:2: hotfix.tag_format"),
    ("[hotfix]\ntag_format = \"v{version}{\"\n", ".hotfix.toml:2: hotfix.tag_format"),
    ("[hotfix]\ntag_format = \"v{version}{version:>999999999}\"\n",
     ".hotfix.toml:2: hotfix.tag_format"),
    ("[environments.production]\nmax_log_bytes = -1\n",
     ".hotfix.toml:2: environments.production.max_log_bytes"),
])
def test_malformed_config_names_the_key(tmp_path: Path, text, names):
    repo = init_repo(tmp_path / "r")
    git(repo, "commit", "-q", "--allow-empty", "-m", "init")
    git(repo, "tag", "v1.0.0")
    (repo / ".hotfix.toml").write_text(text)
    res = run(["start", "--incident", "INC-1", "--title", "t"], cwd=repo)
    assert_one_line_error(res, 1, names)
    assert not (repo / ".git" / "hotfix").exists()
    assert git(repo, "branch", "--list") == "* main"


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_a_config_that_is_not_a_file_is_refused_not_read(tmp_path: Path, kind):
    """A FIFO would hang every command, /dev/zero would eat the memory: both are refused
    before anything opens them, by a real process, with one line."""
    import os

    from tests.helpers import run_proc

    repo = init_repo(tmp_path / "r")
    git(repo, "commit", "-q", "--allow-empty", "-m", "init")
    cfg = repo / ".hotfix.toml"
    if kind == "fifo":
        os.mkfifo(cfg)
    elif kind == "dev-zero":
        cfg.symlink_to("/dev/zero")
    else:
        cfg.mkdir()
    for args in (["list"], ["incident", "open", "--title", "t", "--sev", "2"], ["status"]):
        res = run_proc(args, cwd=repo, timeout=60)  # the guard against a hang, not a timing
        assert_one_line_error(res, 1, "is not a regular file")
    assert not (repo / ".git" / "hotfix").exists()


def test_no_release_tag(tmp_path: Path):
    repo = init_repo(tmp_path / "r")
    git(repo, "commit", "-q", "--allow-empty", "-m", "init")
    assert run(["incident", "open", "--title", "t", "--sev", "2"], cwd=repo).code == 0
    res = run(["start", "--incident", "INC-1", "--title", "t"], cwd=repo)
    assert_one_line_error(res, 1, "no release tag")


def test_checklist_misuse(svc):
    assert svc.cli("start", "--incident", "INC-1", "--title", "t").code == 0
    assert_one_line_error(svc.cli("check", "HF-1", "9"), 1, "no checklist item 9")
    assert_one_line_error(svc.cli("check", "HF-1", "3"), 1, "automatic")
    assert_one_line_error(svc.cli("edit", "HF-1"), 1, "nothing to change")
    assert_one_line_error(svc.cli("show", "HF-9"), 1, "unknown hotfix HF-9")
    assert_one_line_error(svc.cli("pick", "HF-1"), 2, "at least one")
