"""A CLI command loads only what it needs, opens SQLite once, and runs no git command
the database answers; `start` and `pick` run no redundant git command. Each command runs
as a real subprocess of the `hotfix` entry point; git processes are counted with
GIT_TRACE. (How fast this is, is measured in bench/, never asserted here.)"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tests.helpers import GIT_ENV, make_service_repo

cli_main = importlib.import_module("hotfix_tui.cli.main")  # the module, not main()

# What a command that appends to the audit chain asks of git afterwards (hotfix_tui.anchor):
# the anchor ref with its commit, tree and message; the next anchor commit; the ref moved
ANCHOR = ("for-each-ref", "commit-tree", "update-ref")
READS = (["list", "--json"], ["show", "HF-1", "--json"], ["status", "--json"],
         ["incident", "list", "--json"], ["history", "totals", "--json"])

# Runs the CLI in a fresh interpreter; at exit, prints the modules it loaded and how many
# SQLite connections it opened (sqlite3.connect counted, the real one still called).
PROBE = """
import atexit, json, sqlite3, sys
opened = []
real = sqlite3.connect
def counting(*a, **kw):
    opened.append(a[0] if a else kw.get("database"))
    return real(*a, **kw)
sqlite3.connect = counting
def report():
    sys.stderr.write("\\nPROBE " + json.dumps({"modules": sorted(sys.modules),
                                              "connections": opened}) + "\\n")
atexit.register(report)
from hotfix_tui.cli import main
main(sys.argv[1:])
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A service with an open incident and HF-1 started and picked (a real branch and
    worktree), made with the CLI."""
    svc = make_service_repo(tmp_path_factory.mktemp("startup") / "shop")
    for args in (["incident", "open", "--title", "Totals wrong", "--sev", "1"],
                 ["start", "--incident", "INC-1", "--title", "Fix totals"],
                 ["pick", "HF-1", svc.fix]):
        res = svc.cli(*args)
        assert res.code == 0, res.err
    return svc.path


def _env(trace: Path | None = None) -> dict[str, str]:
    """The OS account acts (HOTFIX_ACTOR would make every command ask git whether the
    committed .hotfix.toml allows it)."""
    env = {**os.environ, **GIT_ENV}
    env.pop("GIT_TRACE", None)
    env.pop("HOTFIX_ACTOR", None)
    if trace is not None:
        env["GIT_TRACE"] = str(trace)
    return env


def _probe(cwd: Path, args: list[str], trace: Path | None = None) -> tuple[dict, str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, env=_env(trace),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("PROBE "))
    return json.loads(line.removeprefix("PROBE ")), proc.stdout


def git_commands(trace: Path) -> list[str]:
    """The git commands a GIT_TRACE file shows this program starting (not those git
    started itself, which it traces after a `run_command: git …` line)."""
    lines = trace.read_text().splitlines() if trace.exists() else []
    started = [ln.split("trace: built-in: ", 1)[1].replace("'", "") for ln in lines
               if "trace: built-in: git " in ln]
    for ln in lines:  # `run_command: GIT_DIR=… git reset …`: git started that one
        m = re.search(r"run_command: (?:.* )?(git .*)$", ln)
        if m and m.group(1).replace("'", "") in started:
            started.remove(m.group(1).replace("'", ""))
    return started


@pytest.mark.parametrize("args", READS, ids=lambda a: " ".join(a))
def test_a_read_loads_no_console_no_gitpython_and_no_other_command(project, args):
    seen, out = _probe(project, args)
    json.loads(out)  # it answered
    modules = set(seen["modules"])
    assert not {m for m in modules if m.split(".")[0] in ("textual", "rich", "git",
                                                           "sqlite_utils")}
    if args[0] != "show":  # show measures the scope: forbidden paths need pathspec
        assert not {m for m in modules if m.split(".")[0] == "pathspec"}
    assert not {m for m in modules if m.startswith("hotfix_tui.tui")}
    mine = {"list": "hotfix_cmd", "show": "hotfix_cmd", "history": "hotfix_cmd",
            "status": "deploy_cmd", "incident": "incident_cmd"}[args[0]]
    other_commands = {m for m in modules if m.startswith("hotfix_tui.cli.")
                      and m.endswith("_cmd") and m != f"hotfix_tui.cli.{mine}"}
    assert other_commands == set()
    unused = {f"hotfix_tui.services.{name}" for name in
              ("finish", "finish_push", "deploys", "picks", "missing", "export", "rollback",
               "runstart", "views")}
    if args[0] not in ("list", "history"):  # pages of hotfixes are read by services.history
        unused.add("hotfix_tui.services.history")
    assert modules & unused == set()


@pytest.mark.parametrize("args", READS, ids=lambda a: " ".join(a))
def test_a_read_opens_sqlite_once(project, args):
    seen, _ = _probe(project, args)
    assert len(seen["connections"]) == 1, seen["connections"]


@pytest.mark.parametrize("args", [a for a in READS if a[0] != "show"],
                         ids=lambda a: " ".join(a))
def test_a_read_the_database_answers_runs_no_git(project, args, tmp_path):
    trace = tmp_path / "trace"
    _probe(project, args, trace)
    assert git_commands(trace) == []


def test_show_reads_the_branch_once_then_diffs_and_counts(project, tmp_path):
    """What the database cannot answer: where the branch is now (someone may have
    committed in the worktree), and the diff's scope; each asked once."""
    trace = tmp_path / "trace"
    _probe(project, ["show", "HF-1", "--json"], trace)
    cmds = git_commands(trace)
    assert [c.split()[1] for c in cmds] == ["rev-parse", "diff", "rev-list"], cmds


def test_start_reads_the_refs_once_then_adds_the_worktree(tmp_path):
    svc = make_service_repo(tmp_path / "shop")
    assert svc.cli("incident", "open", "--title", "Totals wrong", "--sev", "1").code == 0
    trace = tmp_path / "trace"
    proc = subprocess.run([sys.executable, "-m", "hotfix_tui", "start", "--incident", "INC-1",
                           "--title", "Fix totals"], cwd=svc.path, env=_env(trace),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    cmds = git_commands(trace)
    # every tag and branch once, the worktree; then the audit chain's head anchored in the
    # repository (hotfix_tui.anchor: the anchor read, its next commit, the ref moved)
    assert [c.split()[1] for c in cmds] == ["for-each-ref", "worktree", *ANCHOR], cmds


def test_pick_runs_each_git_question_once(tmp_path):
    svc = make_service_repo(tmp_path / "shop")
    for args in (["incident", "open", "--title", "Totals wrong", "--sev", "1"],
                 ["start", "--incident", "INC-1", "--title", "Fix totals"]):
        assert svc.cli(*args).code == 0
    trace = tmp_path / "trace"
    proc = subprocess.run([sys.executable, "-m", "hotfix_tui", "pick", "HF-1", svc.fix],
                          cwd=svc.path, env=_env(trace), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    cmds = git_commands(trace)
    names = [" ".join(c.split()[1:3]) for c in cmds[:-len(ANCHOR)]]
    # in progress?, dirty? and HEAD before (one status), the commit and its parents, who
    # commits (author and committer), the pick, HEAD after, the new commit messages for
    # the record; then the audit chain's head anchored
    assert names == ["rev-parse --verify", "status --porcelain=v2", "rev-list --no-walk=unsorted",
                     "var GIT_COMMITTER_IDENT", "var GIT_AUTHOR_IDENT",
                     "cherry-pick -x", "rev-parse --verify", "log --format=%B"], cmds
    assert [c.split()[1] for c in cmds[-len(ANCHOR):]] == list(ANCHOR), cmds
    assert not any(c.split()[1] == "version" for c in cmds)  # no GitPython checking git


def test_the_lazy_command_table_matches_what_the_modules_register():
    root = click.Group()
    by_module = {}
    for module in cli_main.COMMANDS:
        before = set(root.commands)
        importlib.import_module(f"hotfix_tui.cli.{module}").register(root)
        by_module[module] = tuple(sorted(set(root.commands) - before))
    assert by_module == {m: tuple(sorted(names)) for m, names in cli_main.COMMANDS.items()}


def test_help_lists_every_command_and_an_unknown_one_is_refused(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "hotfix_tui", "--help"], cwd=tmp_path,
                          env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    listed = {ln.split()[0] for ln in proc.stdout.split("Commands:", 1)[1].splitlines()
              if ln.strip()}
    assert listed == set(cli_main.MODULE_OF)
    bad = subprocess.run([sys.executable, "-m", "hotfix_tui", "lsit"], cwd=tmp_path,
                         env=_env(), capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: No such command 'lsit'"), bad.stderr


def test_the_console_loads_only_the_dashboard_screen_to_start():
    """The first frame needs the dashboard; every other screen's module is loaded when
    that screen first opens (tui/navigation.py)."""
    probe = ("import sys, hotfix_tui.tui.app; print(' '.join(m for m in sys.modules "
             "if m.startswith('hotfix_tui.tui.screens.')))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert set(proc.stdout.split()) == {"hotfix_tui.tui.screens.dashboard"}
