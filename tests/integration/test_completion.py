"""Shell completion through click's own protocol (the _HOTFIX_COMPLETE, COMP_WORDS and
COMP_CWORD variables the generated scripts set), run as the installed entry point would:
keys come from the database, environments from .hotfix.toml, and nothing needs git."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import GIT_ENV, assert_one_line_error
from tests.integration.deploy_helpers import approved_hotfix, deploy_repo


@pytest.fixture
def svc(tmp_path):
    s = deploy_repo(tmp_path)  # INC-1, environments production and scripted
    approved_hotfix(s, "HF-1", "Fix totals")
    assert s.cli("start", "--incident", "INC-1", "--title", "Second").code == 0
    assert s.cli("abandon", "HF-2", "--reason", "duplicate").code == 0
    assert s.cli("incident", "open", "--title", "Old outage", "--sev", "3").code == 0
    assert s.cli("incident", "resolve", "INC-2").code == 0
    assert s.cli("deploy", "HF-1", "--env", "scripted").code == 0
    return s


def complete(cwd: Path, line: str, shell: str = "bash", path: str | None = None) -> list[str]:
    """What the `shell` script would get for the command line `line` (the cursor at its end).
    PATH is emptied unless given: completion must not need git."""
    words = line.split(" ")
    env = {**{k: v for k, v in os.environ.items() if k not in ("PATH", "HOTFIX_DB")},
           **GIT_ENV, "_HOTFIX_COMPLETE": f"{shell}_complete", "PATH": path or ""}
    if shell == "fish":
        env.update(COMP_WORDS=line, COMP_CWORD=words[-1])
    else:
        env.update(COMP_WORDS=line, COMP_CWORD=str(len(words) - 1))
    proc = subprocess.run([sys.executable, "-m", "hotfix_tui"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return [ln for ln in proc.stdout.splitlines() if ln]


def values(lines: list[str]) -> list[str]:
    return [ln.split(",", 1)[1] for ln in lines]  # bash: "type,value"


def _content(db: Path) -> list[str]:
    """Every row of the database as SQL (the file's bytes can change when a finished
    runner's connection checkpoints its log; the content cannot, unless someone writes)."""
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_hotfix_incident_and_run_keys_complete_newest_first(svc):
    db = svc.path / ".git" / "hotfix" / "hotfix.db"
    before = _content(db)
    assert values(complete(svc.path, "hotfix show ")) == ["HF-2", "HF-1"]
    assert values(complete(svc.path, "hotfix deploy ")) == ["HF-1"]  # not the abandoned one
    assert values(complete(svc.path, "hotfix diff hf-")) == ["HF-2", "HF-1"]
    assert values(complete(svc.path, "hotfix show HF-2")) == ["HF-2"]
    assert values(complete(svc.path, "hotfix show HF-1")) == ["HF-1"]
    assert values(complete(svc.path, "hotfix show INC-")) == []  # another kind of key
    assert values(complete(svc.path, "hotfix incident show ")) == ["INC-2", "INC-1"]
    assert values(complete(svc.path, "hotfix start --incident ")) == ["INC-1"]  # open ones
    assert values(complete(svc.path, "hotfix log ")) == ["D-1"]
    assert values(complete(svc.path, "hotfix cancel ")) == []  # nothing is running
    assert values(complete(svc.path, "hotfix timeline I")) == ["INC-2", "INC-1"]
    assert _content(db) == before  # completion only reads


def test_environments_and_choices_complete(svc):
    assert values(complete(svc.path, "hotfix deploy HF-1 --env ")) == ["production", "scripted"]
    assert values(complete(svc.path, "hotfix rollback --env s")) == ["scripted"]
    assert "--json" in values(complete(svc.path, "hotfix status --"))
    assert values(complete(svc.path, "hotfix list --state dep")) == ["deploying", "deployed"]
    assert "history" in values(complete(svc.path, "hotfix hi"))


def test_zsh_and_fish_get_descriptions(svc):
    zsh = complete(svc.path, "hotfix show HF-1", shell="zsh")
    assert zsh[:2] == ["plain", "HF-1"] and zsh[2].startswith("deployed · Fix totals")
    fish = complete(svc.path, "hotfix incident show INC-2", shell="fish")
    assert fish == ["plain,INC-2\tresolved · Old outage"]


def test_completion_follows_repo_and_db_on_the_command_line(svc, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert values(complete(elsewhere, "hotfix show ")) == []  # no repository here
    assert values(complete(elsewhere, f"hotfix --repo {svc.path} show ")) == ["HF-2", "HF-1"]
    db = svc.path / ".git" / "hotfix" / "hotfix.db"
    assert values(complete(elsewhere, f"hotfix --db {db} log ")) == ["D-1"]
    assert values(complete(elsewhere, f"hotfix --repo {svc.path} deploy HF-1 --env p")) == \
        ["production"]
    assert values(complete(elsewhere, f"hotfix --db {elsewhere}/none.db show ")) == []
    assert not (elsewhere / "none.db").exists()


def test_a_broken_database_completes_nothing_quietly(svc, tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_text("not a database")
    assert values(complete(svc.path, f"hotfix --db {broken} show ")) == []
    assert broken.read_text() == "not a database"


@pytest.mark.parametrize("shell, marker", [
    ("bash", "complete -o nosort -F _hotfix_completion hotfix"),
    ("zsh", "compdef _hotfix_completion hotfix"),
    ("fish", "complete --no-files --command hotfix"),
])
def test_completion_prints_the_script(svc, shell, marker):
    res = svc.cli("completion", shell)
    assert res.code == 0 and marker in res.out and "_HOTFIX_COMPLETE" in res.out


def test_completion_bad_shell(svc):
    assert_one_line_error(svc.cli("completion", "tcsh"), 2, "tcsh")
    assert_one_line_error(svc.cli("completion"), 2, "Missing argument")


def test_the_key_typed_in_full_comes_first_then_the_newest(tmp_path):
    from tests.helpers import init_repo, run

    repo = init_repo(tmp_path / "repo")
    for n in range(1, 13):
        assert run(["incident", "open", "--title", f"Outage {n}", "--sev", "2"],
                   cwd=repo).code == 0
    assert values(complete(repo, "hotfix incident show INC-1")) == \
        ["INC-1", "INC-12", "INC-11", "INC-10"]
    assert values(complete(repo, "hotfix incident show "))[:2] == ["INC-12", "INC-11"]


def test_a_tab_reads_a_range_of_the_key_index_not_every_key(tmp_path):
    """A Tab after `HF-1` reads the keys from HF-1 up to HF-2 in the key's unique index;
    a Tab after `HF-` reads the newest rows from the end of the table. Both without
    sorting the whole table (with 100 000 hotfixes, a LIKE read and sorted every key:
    bench P10). And each still answers as before."""
    from hotfix_tui.store.keys import candidates_query, key_candidates
    from tests.helpers import init_repo, run

    repo = init_repo(tmp_path / "repo")
    for n in range(1, 13):
        assert run(["incident", "open", "--title", f"Outage {n}", "--sev", "2"],
                   cwd=repo).code == 0
    db = repo / ".git" / "hotfix" / "hotfix.db"
    conn = sqlite3.connect(db)
    try:
        def plan(digits: str) -> str:
            sql, params = candidates_query("incident", digits)
            return " | ".join(d for *_, d in conn.execute("EXPLAIN QUERY PLAN " + sql, params))

        assert "USING INDEX" in plan("1") and "key>? AND key<?" in plan("1"), plan("1")
        assert "SCAN incidents" not in plan("1"), plan("1")
        assert "TEMP B-TREE" not in plan(""), plan("")
    finally:
        conn.close()
    assert [k for k, _ in key_candidates(db, "incident", "1")] == \
        ["INC-1", "INC-12", "INC-11", "INC-10"]
    assert [k for k, _ in key_candidates(db, "incident", "", limit=3)] == \
        ["INC-12", "INC-11", "INC-10"]
    assert key_candidates(db, "incident", "13") == []
