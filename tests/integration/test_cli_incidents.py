"""The incident CLI: JSON shape, lifecycle, and every named bad input."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from hotfix_tui.store import schema
from tests.helpers import assert_one_line_error, run, run_proc, sha256_of

INCIDENT_KEYS = {"key", "title", "severity", "status", "service", "commander", "opened_at",
                 "mitigated_at", "resolved_at"}


def _open(repo: Path, *extra: str, title: str = "Checkout failing", sev: str = "1"):
    return run(["incident", "open", "--title", title, "--sev", sev, *extra], cwd=repo)


def test_incident_lifecycle_with_json(repo: Path, db_path: Path):
    res = _open(repo, "--service", "checkout", "--commander", "alice", "--json")
    assert res.code == 0, res.err
    inc = res.json()
    assert set(inc) >= INCIDENT_KEYS
    assert inc["key"] == "INC-1" and inc["severity"] == 1 and inc["status"] == "open"
    assert inc["service"] == "checkout" and inc["commander"] == "alice"
    assert inc["opened_at"].endswith("Z") and "T" in inc["opened_at"]
    assert inc["mitigated_at"] is None
    assert db_path.exists(), "the database lives under the git common dir by default"

    plain = _open(repo, title="Search slow", sev="SEV3")
    assert plain.code == 0 and plain.out.strip() == "INC-2"

    listed = run(["incident", "list", "--json"], cwd=repo).items()
    assert [i["key"] for i in listed] == ["INC-1", "INC-2"]  # worst severity first

    mitigated = run(["incident", "mitigate", "INC-1", "--json"], cwd=repo).json()
    assert mitigated["status"] == "mitigated" and mitigated["mitigated_at"]
    resolved = run(["incident", "resolve", "inc-1", "--json"], cwd=repo).json()
    assert resolved["status"] == "resolved" and resolved["resolved_at"] >= resolved["opened_at"]

    assert [i["key"] for i in run(["incident", "list", "--json"], cwd=repo).items()] == ["INC-2"]
    everything = run(["incident", "list", "--all", "--json"], cwd=repo).items()
    assert {i["key"] for i in everything} == {"INC-1", "INC-2"}
    shown = run(["incident", "show", "INC-1", "--json"], cwd=repo).json()
    assert shown["status"] == "resolved"
    text = run(["incident", "list"], cwd=repo)
    assert "INC-2" in text.out and "SEV3" in text.out

    again = run(["incident", "resolve", "INC-1"], cwd=repo)
    assert_one_line_error(again, 1, "INC-1 is resolved")

    verify = run(["audit", "verify"], cwd=repo)
    assert verify.code == 0 and verify.out.startswith("ok: 4 events, anchored at event 4 in ")


def test_list_and_show_hotfixes_empty(repo: Path):
    assert run(["list", "--json"], cwd=repo).items() == []
    assert run(["list"], cwd=repo).out.strip() == "no hotfixes"
    assert_one_line_error(run(["show", "HF-1"], cwd=repo), 1, "unknown hotfix HF-1")


def test_reads_do_not_create_the_database(repo: Path, db_path: Path):
    assert run(["incident", "list", "--json"], cwd=repo).items() == []
    assert run(["audit", "verify"], cwd=repo).out.strip() == "ok: 0 events, empty chain"
    assert not db_path.exists() and not db_path.parent.exists()


def test_db_location_precedence(repo: Path, tmp_path: Path):
    env_db = tmp_path / "env.db"
    flag_db = tmp_path / "flag.db"
    assert run(["--db", str(flag_db), "init"], cwd=repo).code == 0
    assert run(["init"], cwd=repo, env={"HOTFIX_DB": str(env_db)}).code == 0
    assert _open(repo).code == 0  # the default location: created on the first change
    assert run(["incident", "open", "--title", "a", "--sev", "2"], cwd=repo,
               env={"HOTFIX_DB": str(env_db)}).code == 0
    assert run(["--db", str(flag_db), "incident", "open", "--title", "b", "--sev", "2"],
               cwd=repo, env={"HOTFIX_DB": str(env_db)}).code == 0
    (repo / "var").mkdir()
    (repo / ".hotfix.toml").write_text('[store]\npath = "var/team.db"\n')
    assert run(["init"], cwd=repo).code == 0
    assert _open(repo, title="c").code == 0

    def titles(db: Path) -> list[str]:
        conn = sqlite3.connect(db)
        try:
            return [t for (t,) in conn.execute("SELECT title FROM incidents ORDER BY id")]
        finally:
            conn.close()

    assert titles(flag_db) == ["b"]
    assert titles(env_db) == ["a"]
    assert titles(repo / "var" / "team.db") == ["c"]
    assert titles(repo / ".git" / "hotfix" / "hotfix.db") == ["Checkout failing"]


@pytest.mark.parametrize("how", ["--db", "HOTFIX_DB", "[store] path"])
def test_a_named_database_that_is_missing_is_an_error_and_nothing_is_created(
        repo: Path, tmp_path: Path, how: str):
    assert _open(repo).code == 0  # the team's real database, at the default location
    typo = tmp_path / "hotfix-typo.db"
    args, env = [], {}
    if how == "--db":
        args = ["--db", str(typo)]
    elif how == "HOTFIX_DB":
        env = {"HOTFIX_DB": str(typo)}
    else:
        (repo / ".hotfix.toml").write_text(f'[store]\npath = "{typo}"\n')
    for command in (["incident", "list"], ["incident", "list", "--json"], ["list"],
                    ["audit", "verify"], ["incident", "open", "--title", "t", "--sev", "1"]):
        res = run([*args, *command], cwd=repo, env=env)
        assert_one_line_error(res, 1, f"no hotfix database at {typo}")
        assert "hotfix init" in res.err
    assert not typo.exists()
    assert run([*args, "init"], cwd=repo, env=env).code == 0
    assert typo.exists()
    assert run([*args, "incident", "list", "--json"], cwd=repo, env=env).items() == []


def test_a_named_database_in_a_missing_folder_is_an_error_for_every_command(
        repo: Path, tmp_path: Path):
    missing = tmp_path / "no-such-folder" / "hotfix.db"
    for command in (["incident", "list"], ["init"],
                    ["incident", "open", "--title", "t", "--sev", "1"]):
        res = run(["--db", str(missing), *command], cwd=repo)
        assert_one_line_error(res, 1, f"no such folder for the database {missing}")
    assert not missing.parent.exists()


def test_linked_worktrees_share_the_database(repo: Path, tmp_path: Path):
    from tests.helpers import git

    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "other", str(wt))
    assert _open(wt).code == 0
    assert [i["key"] for i in run(["incident", "list", "--json"], cwd=repo).items()] == ["INC-1"]


def test_long_title_refused_with_its_limit(repo: Path, db_path: Path):
    assert _open(repo).code == 0
    before = sha256_of(db_path)
    res = _open(repo, title="x" * 10_000)
    assert_one_line_error(res, 1, "the limit is 200")
    assert sha256_of(db_path) == before


BAD = [
    (["incident", "show", "INC-99"], 1, "unknown incident INC-99"),
    (["incident", "mitigate", "INC-42"], 1, "unknown incident"),
    (["incident", "show", "banana"], 1, "not a valid INC key"),
    (["incident", "open", "--title", "t", "--sev", "0"], 2, "severity"),
    (["incident", "open", "--title", "t", "--sev", "9"], 2, "severity"),
    (["incident", "open", "--title", "t", "--sev", "high"], 2, "severity"),
    (["incident", "open", "--title", "", "--sev", "1"], 1, "title must not be empty"),
    (["incident", "open", "--title", "   ", "--sev", "1"], 1, "title must not be empty"),
    (["incident", "open", "--title", "a\x1b[2Jb", "--sev", "1"], 1, "control characters"),
    (["incident", "open", "--sev", "1"], 2, "--title"),
    (["incident", "frobnicate"], 2, "no such command"),
]


@pytest.mark.parametrize(("args", "code", "text"), BAD, ids=lambda v: str(v)[:40])
def test_bad_input_changes_nothing(repo: Path, db_path: Path, args, code, text):
    assert _open(repo).code == 0
    before = sha256_of(db_path)
    res = run(args, cwd=repo)
    assert_one_line_error(res, code, text)
    assert sha256_of(db_path) == before
    assert res.out == ""


def test_bad_input_on_a_fresh_repo_creates_no_database(repo: Path, db_path: Path):
    assert_one_line_error(run(["incident", "show", "INC-1"], cwd=repo), 1, "unknown incident")
    assert_one_line_error(run(["incident", "resolve", "INC-1"], cwd=repo), 1, "unknown incident")
    assert not db_path.exists()


def test_db_in_a_directory_that_cannot_be_created(repo: Path, tmp_path: Path):
    blocker = tmp_path / "plainfile"
    blocker.write_text("not a directory")
    res = run(["--db", str(blocker / "sub" / "x.db"), "incident", "open", "--title", "t",
               "--sev", "1"], cwd=repo)
    assert_one_line_error(res, 1, "no such folder for the database")
    assert blocker.read_text() == "not a directory"


def test_file_that_is_not_a_database(repo: Path, tmp_path: Path):
    bogus = tmp_path / "notes.db"
    bogus.write_bytes(b"These are my notes, not SQLite.\n" * 200)
    before = sha256_of(bogus)
    for args in (["incident", "list"], ["incident", "open", "--title", "t", "--sev", "1"]):
        res = run(["--db", str(bogus), *args], cwd=repo)
        assert_one_line_error(res, 1, "not a hotfix database")
    assert sha256_of(bogus) == before


def test_someone_elses_sqlite_file(repo: Path, tmp_path: Path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    before = sha256_of(other)
    res = run(["--db", str(other), "incident", "open", "--title", "t", "--sev", "1"], cwd=repo)
    assert_one_line_error(res, 1, "not a hotfix database")
    assert sha256_of(other) == before


def test_database_with_newer_user_version(repo: Path, db_path: Path):
    assert _open(repo).code == 0
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 5}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = sha256_of(db_path)
    for args in (["incident", "list"], ["incident", "open", "--title", "t", "--sev", "1"]):
        assert_one_line_error(run(args, cwd=repo), 1, "newer hotfix-tui")
    assert sha256_of(db_path) == before


def test_no_repository_and_no_db(tmp_path: Path):
    res = run(["incident", "list"], cwd=tmp_path)
    assert_one_line_error(res, 1, "not a git repository")
    res = run(["--repo", str(tmp_path), "incident", "list"], cwd=tmp_path)
    assert_one_line_error(res, 1, "not a git repository")
    res = run(["--db", str(tmp_path / "x.db"), "incident", "list", "--json"], cwd=tmp_path)
    assert_one_line_error(res, 1, "no hotfix database at")
    assert run(["--db", str(tmp_path / "x.db"), "init"], cwd=tmp_path).code == 0
    ok = run(["--db", str(tmp_path / "x.db"), "incident", "list", "--json"], cwd=tmp_path)
    assert ok.code == 0 and ok.items() == []


def test_internal_errors_are_one_line_unless_debugging(repo: Path, db_path: Path):
    assert _open(repo).code == 0
    # A corrupted row (a status the program does not know) is an internal error.
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA ignore_check_constraints = ON")
    conn.execute("UPDATE incidents SET status = 'weird' WHERE id = 1")
    conn.commit()
    conn.close()
    res = run_proc(["incident", "list", "--json"], cwd=repo)
    assert_one_line_error(res, 1, "internal error")
    dbg = run_proc(["incident", "list", "--json"], cwd=repo, env={"HOTFIX_DEBUG": "1"})
    assert dbg.code != 0 and "Traceback" in dbg.err


def test_module_entry_point_and_help(repo: Path):
    res = run_proc(["--help"], cwd=repo)
    assert res.code == 0 and "incident" in res.out
    res = run_proc(["incident", "open", "--title", "From a subprocess", "--sev", "2", "--json"],
                   cwd=repo)
    assert res.code == 0 and res.json()["key"] == "INC-1"
    assert os.path.exists(repo / ".git" / "hotfix" / "hotfix.db")
