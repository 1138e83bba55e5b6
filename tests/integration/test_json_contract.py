"""The JSON contract (docs/schema): every command's --json on the demo sandbox, each
document validated with `jsonschema` against its published schema, with no key the schema
does not declare and no "" where the schema says absent is null."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from tests.helpers import GIT_ENV, git, run
from tests.schemas import SCHEMA_DIR, problems, schema_files


@dataclass(frozen=True)
class Step:
    label: str  # also the test id
    command: str  # the command path, as `hotfix COMMAND …` names it
    schema: str | None  # None: a step that only prepares the next ones
    argv: tuple[str, ...]
    actor: str = "alice"
    code: int = 0  # the exit code it must end with; -1: 0 or 1


def step(label: str, schema: str | None, *argv: str, actor: str = "alice", code: int = 0,
         command: str | None = None) -> Step:
    words = [a for a in argv if not a.startswith("-")]
    if command is None:
        command = " ".join(words[:2]) if words[0] in ("incident", "audit") else words[0]
    return Step(label, command, schema, argv, actor, code)


def _prepare(step_label: str, repo: Path) -> None:
    """What a step needs done outside the CLI first."""
    if step_label == "worktree":  # recreate a worktree deleted by hand
        wt = run(["show", "HF-2", "--json"], cwd=repo).json()["worktree"]
        shutil.rmtree(wt)
    elif step_label == "edit-3":  # HF-3 carries a commit main lacks: finish has work to do
        wt = Path(run(["show", "HF-3", "--json"], cwd=repo).json()["worktree"])
        (wt / "NOTES.md").write_text("gift cards: see INC-2\n")
        git(wt, "add", "NOTES.md")
        git(wt, "commit", "-q", "-m", "Notes on gift cards")
    elif step_label == "finish-blocked":  # main's checkout is dirty: the forward-port waits
        with (repo / "app" / "checkout.py").open("a") as f:
            f.write("# local edit\n")
    elif step_label == "finish-abort":
        git(repo, "checkout", "-q", "--", "app/checkout.py")
    elif step_label == "sync":  # a bare remote to share the history through
        remote = repo.parent / "remote.git"
        git(repo.parent, "init", "-q", "--bare", "-b", "main", str(remote))
        git(repo, "remote", "add", "origin", str(remote))
    elif step_label == "verify-record":  # the record, exported to a file
        res = run(["export", "HF-1", "--format", "json", "-o",
                   str(repo.parent / "HF-1-record.json")], cwd=repo)
        assert res.code == 0, res.err
    elif step_label == "hooked-lock":
        with (repo / ".hotfix.toml").open("a") as f:
            f.write('\n[hooks]\n"environment.*" = ["true"]\n')


def _until_delivered(repo: Path, res, timeout: float = 60.0):
    """`hotfix hooks --json` again until the hook has run (finished, whatever its status)."""
    deadline = time.monotonic() + timeout
    while not any(d["finished_at"] for d in res.items()):
        assert time.monotonic() < deadline, f"no delivery finished: {res.out}"
        time.sleep(0.1)
        res = run(["hooks", "--json"], cwd=repo, env={"HOTFIX_ACTOR": "alice"})
    return res


def _watch(repo: Path, lines: int) -> list[dict]:
    """`hotfix watch --json --since 0`, a real process (it runs until stopped): its first
    `lines` documents, then SIGTERM, which it takes as the end (exit 0)."""
    env = {**os.environ, **GIT_ENV, "HOTFIX_ACTOR": "alice"}
    proc = subprocess.Popen([sys.executable, "-m", "hotfix_tui", "watch", "--json", "--since",
                             "0"], cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        docs = [json.loads(proc.stdout.readline()) for _ in range(lines)]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return docs


def _document_steps(alerts: Path) -> list[Step]:
    fill = ("--why", "Negative totals", "--risk", "Low", "--test-plan", "Unit tests",
            "--rollback-plan", "Roll back to 1.4.1")
    s = [
        step("incident-list", "incident-list.json", "incident", "list", "--all"),
        step("incident-open", "incident.json", "incident", "open", "--title", "Search slow",
             "--sev", "3"),
        step("incident-show", "incident.json", "incident", "show", "INC-3"),
        step("incident-assign", "incident.json", "incident", "assign", "INC-3",
             "--commander", "bob"),
        step("incident-note", "event.json", "incident", "note", "INC-3", "status page updated"),
        step("incident-mitigate", "incident.json", "incident", "mitigate", "INC-3"),
        step("incident-resolve", "incident.json", "incident", "resolve", "INC-3"),
        step("incident-reopen", "incident.json", "incident", "reopen", "INC-3"),
        step("incident-import", "import-result.json", "incident", "import", str(alerts)),
        step("start", "hotfix.json", "start", "--incident", "INC-2", "--title",
             "Cap gift card redemption"),
        step("pick", "hotfix.json", "pick", "HF-1", "main~3"),
        step("scope", "scope-report.json", "scope", "HF-1"),
        step("checklist", "checklist.json", "checklist", "HF-1"),
        step("edit", "hotfix.json", "edit", "HF-1", *fill),
        *[step(f"check-{n}", "hotfix.json", "check", "HF-1", str(n)) for n in (1, 2, 3)],
        step("submit", "hotfix.json", "submit", "HF-1"),
        step("queue", "hotfix-list.json", "queue", actor="bob"),
        step("approve", "hotfix.json", "approve", "HF-1", actor="bob"),
        step("start-2", "hotfix.json", "start", "--incident", "INC-2", "--title", "Second try"),
        step("pick-2", None, "pick", "HF-2", "main~3"),
        step("edit-2", None, "edit", "HF-2", *fill),
        *[step(f"check-2-{n}", None, "check", "HF-2", str(n)) for n in (1, 2, 3)],
        step("submit-2", None, "submit", "HF-2"),
        step("reject", "hotfix.json", "reject", "HF-2", "--comment", "not this way",
             actor="bob"),
        step("worktree", "hotfix.json", "worktree", "HF-2"),
        step("abandon", "hotfix.json", "abandon", "HF-2", "--reason", "superseded"),
        step("lock", "environment.json", "lock", "--env", "staging", "--reason", "drill"),
        step("unlock", "environment.json", "unlock", "--env", "staging", "--reason", "done"),
        step("deploy-detach", "run.json", "deploy", "HF-1", "--env", "staging", "--detach"),
        step("cancel", "run.json", "cancel", "D-1"),
        step("log-follow-cancelled", "log-line.json", "log", "D-1", "--follow", code=4),
        # the demo's release path: staging, verified there, before production
        step("deploy-refused", "error.json", "deploy", "HF-1", "--env", "production", code=1),
        step("deploy-staging", "run.json", "deploy", "HF-1", "--env", "staging"),
        step("verify-staging", "run.json", "verify", "HF-1", "--env", "staging"),
        step("deploy", "run.json", "deploy", "HF-1", "--env", "production"),
        step("log", "run-log.json", "log", "D-4"),
        step("log-follow", "log-line.json", "log", "D-4", "--follow"),
        step("deploys", "run-list.json", "deploys"),
        step("status", "environment-list.json", "status"),
        step("status-hotfix", "environment-list.json", "status", "--hotfix", "HF-1"),
        step("verify", "run.json", "verify", "HF-1", "--env", "production"),
        step("verify-item", "verify-items.json", "verify", "HF-1", "--env", "production",
             "--item", "1"),
        step("finish", "finish-result.json", "finish", "HF-1"),
        step("missing", "missing-report.json", "missing", "HF-1"),
        step("start-3", None, "start", "--incident", "INC-2", "--title", "Notes"),
        step("edit-3", None, "edit", "HF-3", *fill),
        *[step(f"check-3-{n}", None, "check", "HF-3", str(n)) for n in (1, 2, 3)],
        step("submit-3", None, "submit", "HF-3"),
        step("approve-3", None, "approve", "HF-3", actor="bob"),
        step("deploy-3-staging", None, "deploy", "HF-3", "--env", "staging"),
        step("verify-3-staging", None, "verify", "HF-3", "--env", "staging"),
        step("deploy-3", None, "deploy", "HF-3", "--env", "production"),
        step("finish-blocked", "finish-result.json", "finish", "HF-3", "--skip-verify",
             "drill", code=1),
        step("finish-abort", "finish-abort.json", "finish", "HF-3", "--abort"),
        step("adopt", "environment.json", "adopt", "--env", "staging", "--ref", "v1.4.1",
             "--reason", "the release team ran it"),
        step("timeline", "timeline.json", "timeline", "INC-2"),
        step("export", "record.json", "export", "HF-1"),
        step("verify-record", "verify-record.json", "verify-record",
             str(alerts.parent / "HF-1-record.json")),
        step("sync", "sync-result.json", "sync", "--site", "demo"),
        step("audit", "audit-verify.json", "audit", "verify"),
        step("audit-log", "audit-log.json", "audit", "log"),
        # whether doctor passes depends on the machine (tmux, TERM); its document does not
        step("doctor", "doctor.json", "doctor", code=-1),
        step("list", "hotfix-list.json", "list"),
        step("list-limit", "hotfix-list.json", "list", "--limit", "1"),
        step("history", "hotfix-list.json", "history", "gift", "state:finished"),
        step("show", "hotfix.json", "show", "HF-1"),
        step("rollback", "run.json", "rollback", "--env", "production", "--reason", "drill"),
        step("error-unknown", "error.json", "show", "HF-99", code=1),
        step("error-refused", "error.json", "deploy", "HF-3", "--env", "production", code=1),
        step("error-usage", "error.json", "list", "--limit", "many", code=2),
        step("error-invalid", "error.json", "list", "--since", "yesterday", code=1),
        step("error-transition", "error.json", "incident", "reopen", "INC-3", code=1),
        # last, as it changes .hotfix.toml: a hook, an event for it, and its delivery
        step("hooked-lock", None, "lock", "--env", "staging", "--reason", "hooks"),
        step("hooks", "hook-delivery-list.json", "hooks"),
        step("watch", "hook-event.json", "watch", "--since", "0"),
    ]
    return s


STEPS = _document_steps(Path("alerts.json"))
CHECKED = [s for s in STEPS if s.schema is not None]


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> dict[str, list]:
    """Run every step on a fresh demo sandbox; each step's JSON documents by label."""
    root = tmp_path_factory.mktemp("contract")
    with pytest.MonkeyPatch.context() as mp:
        home = root / "home"
        mp.setenv("HOME", str(home))
        mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        for k in ("HOTFIX_DB", "HOTFIX_DEBUG"):
            mp.delenv(k, raising=False)
        made = run(["demo", "--dir", str(root / "demo"), "--no-tui"])
        assert made.code == 0, made.err
        repo = root / "demo" / "shop-checkout"
        alerts = repo.parent / "alerts.json"
        alerts.write_text(json.dumps([{"title": "Disk full on db-1", "severity": "critical",
                                       "service": "db"}]))
        docs: dict[str, list] = {}
        for st in _document_steps(alerts):
            _prepare(st.label, repo)
            if st.label == "watch":
                docs[st.label] = _watch(repo, 30)
                continue
            res = run([*st.argv, "--json"], cwd=repo, env={"HOTFIX_ACTOR": st.actor})
            if st.label == "hooks":  # a detached worker queues and runs the delivery
                res = _until_delivered(repo, res)
            expected = (0, 1) if st.code == -1 else (st.code,)
            assert res.code in expected, (st.label, res.code, res.err)
            if st.schema is None:
                continue
            if st.schema == "log-line.json":  # JSON Lines: one document per line
                docs[st.label] = [json.loads(line) for line in res.out.splitlines()]
                assert docs[st.label], st.label
            else:
                docs[st.label] = [res.json()]
        return docs


@pytest.mark.parametrize("st", CHECKED, ids=[s.label for s in CHECKED])
def test_each_document_follows_its_schema(documents, st: Step):
    for doc in documents[st.label]:
        assert next(iter(doc)) == "schema_version" and doc["schema_version"] >= 1
        assert problems(doc, st.schema) == [], (st.label, doc)


def _json_commands(group: click.Group, prefix: str = "") -> set[str]:
    found = set()
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # the root group loads each command on demand
        cmd = group.get_command(ctx, name)
        path = f"{prefix}{name}"
        if isinstance(cmd, click.Group):
            found |= _json_commands(cmd, path + " ")
        elif any(p.name == "as_json" for p in cmd.params):
            found.add(path)
    return found


def test_every_command_with_json_is_run_and_checked():
    from hotfix_tui.cli.main import cli

    assert _json_commands(cli) == {s.command for s in CHECKED}


def test_the_checks_catch_an_empty_string_and_an_undeclared_key(documents):
    """The walker behind the other tests is not vacuous."""
    shown = dict(documents["show"][0])
    shown["why"] = ""
    shown["surprise"] = 1
    found = problems(shown, "hotfix.json")
    assert any("why" in p and 'null is the absent value' in p for p in found)
    assert any("surprise: not declared" in p for p in found)
    status = documents["status"][0]
    env = dict(status["items"][0], lock_reason="")
    assert any("lock_reason" in p for p in problems({**status, "items": [env]},
                                                     "environment-list.json"))


def test_status_says_where_a_hotfix_stands_on_its_release_path(documents):
    plain = documents["status"][0]["items"]
    assert [e["env"] for e in plain] == ["staging", "production"]  # promotion order
    assert all(e["path"] is None for e in plain)
    assert plain[1]["requires"] == ["staging"] and plain[1]["min_soak_s"] == 0
    staging, production = documents["status-hotfix"][0]["items"]
    assert (staging["hotfix"], staging["verification"]) == ("HF-1", "passed")
    assert staging["path"]["state"] == "passed" and staging["path"]["next"] is False
    assert production["path"]["state"] == "pending" and production["path"]["next"] is True
    assert production["path"]["needs"] == ["verify it (hotfix verify HF-1 --env production)"]
    assert production["path"]["verification"]["deploy"] == "D-4"
    refused = documents["deploy-refused"][0]["error"]
    assert refused["reasons"] == ["production requires staging first: the deploy of HF-1 to "
                                  "staging was cancelled (D-1); deploy it there again (hotfix "
                                  "deploy HF-1 --env staging)"]


def test_absent_values_are_null_not_empty(documents):
    shown = documents["start"][0]
    for key in ("why", "risk", "test_plan", "rollback_plan", "break_glass_reason",
                "skip_verify_reason", "tag", "scope_accepted_reason"):
        assert shown[key] is None, key
    approval = documents["approve"][0]["approvals"][0]
    assert approval["comment"] is None and approval["stale_reason"] is None
    first = documents["deploy-detach"][0]  # staging's first run through hotfix
    assert first["reason"] is None and first["break_glass_reason"] is None
    assert first["cancelled_by"] is None
    assert documents["cancel"][0]["cancelled_by"] == "alice"
    assert documents["rollback"][0]["reason"] == "drill"
    unlocked = documents["unlock"][0]
    assert unlocked["lock_reason"] is None and unlocked["locked_by"] is None
    assert documents["incident-import"][0]["items"][0]["note"] is None


def test_error_documents_say_what_and_where(documents):
    unknown = documents["error-unknown"][0]["error"]
    assert unknown["type"] == "unknown_key" and unknown["exit_code"] == 1
    assert unknown["database"].endswith("hotfix.db")
    assert unknown["repository"].endswith("shop-checkout")
    assert unknown["database"] in unknown["message"]
    refused = documents["error-refused"][0]["error"]  # production is locked after the rollback
    assert refused["type"] == "refused" and refused["repository"] is None
    assert any("locked" in r for r in refused["reasons"])
    usage = documents["error-usage"][0]["error"]
    assert usage["type"] == "usage" and usage["exit_code"] == 2
    assert documents["error-invalid"][0]["error"]["type"] == "invalid"
    reopen = documents["error-transition"][0]["error"]  # INC-3 is open already
    assert reopen["type"] == "refused" and any("INC-3 is open" in r for r in reopen["reasons"])


def test_hooks_and_watch_gave_documents_to_check(documents):
    deliveries = documents["hooks"][0]["items"]
    # the hook selects environment.*: the lock, and the environment events before it
    assert deliveries and all(d["event"].startswith("environment.") for d in deliveries)
    assert any(d["status"] == "succeeded" and d["finished_at"] for d in deliveries)
    events = documents["watch"]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert {"incident.opened", "hotfix.started", "deploy.started"} <= {e["event"] for e in events}


def test_every_schema_is_valid_listed_and_used():
    from jsonschema import Draft202012Validator

    readme = (SCHEMA_DIR / "README.md").read_text()
    used = {s.schema for s in CHECKED}
    for path in schema_files():
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
        assert f"({path.name})" in readme, f"{path.name} is not in docs/schema/README.md"
        assert path.name in used or path.name in ("common.json", "approval.json",
                                                  "checklist-item.json"), path.name
