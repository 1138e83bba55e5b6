"""What a careful review found: failed deploys and rollbacks, dead runners, releases that
never reached production, approvals after the fact, and confirmations that must pin what
they showed."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from hotfix_tui import services
from hotfix_tui.clock import iso, utcnow
from hotfix_tui.core.errors import PolicyRefusal
from hotfix_tui.deploy.lifecycle import runner_lost
from hotfix_tui.deploy.runner import group_members
from hotfix_tui.store import open_store
from hotfix_tui.store.runs import insert_run, run_row
from tests.helpers import assert_one_line_error, commit_file, git
from tests.integration.deploy_helpers import (
    approved_hotfix,
    deploy_repo,
    kill_every_command,
    orphan_the_run,
    runner_ids,
)

FLAKY_DEPLOY = """#!/bin/sh
# deploys fine, except the versions listed in BAD_VERSIONS
case " $BAD_VERSIONS " in *" $1 "*) echo "deploy of $1 failed" >&2; exit 1;; esac
echo "deployed $1"
"""


def _cfg(svc) -> Path:
    return svc.path / ".hotfix.toml"


@pytest.fixture
def svc(tmp_path):
    return deploy_repo(tmp_path, files={
        "ops/flaky.sh": FLAKY_DEPLOY,
        "ops/quiet.sh": "#!/bin/sh\necho start $1\nsleep 30\necho end\n",
    }, extra_config='[environments.flaky]\ndeploy = ["./ops/flaky.sh", "{version}"]\n'
                    '[environments.quiet]\ndeploy = ["./ops/quiet.sh", "{version}"]\n'
                    'cancel_grace_s = 1\n')


def _state(svc, key):
    return svc.cli("show", key, "--json").json()["state"]


def test_rollback_after_a_failed_deploy_restores_the_recorded_release(svc, monkeypatch):
    assert svc.cli("adopt", "--env", "flaky", "--ref", "v1.4.1", "--reason", "ran before").code == 0
    approved_hotfix(svc, "HF-1", "Good fix")
    assert svc.cli("deploy", "HF-1", "--env", "flaky").code == 0      # 1.4.2 is live
    approved_hotfix(svc, "HF-2", "Bad fix")
    monkeypatch.setenv("BAD_VERSIONS", "1.4.3")
    res = svc.cli("deploy", "HF-2", "--env", "flaky")
    assert res.code == 3 and _state(svc, "HF-2") == "failed"  # 3: the run failed
    monkeypatch.delenv("BAD_VERSIONS")
    rb = svc.cli("rollback", "--env", "flaky", "--reason", "HF-2 deploy failed", "--json")
    assert rb.code == 0, rb.err
    d = rb.json()
    # back to what was recorded as live (1.4.2, the good fix), not one release further
    assert d["version"] == "1.4.2" and d["previous_version"] == "1.4.3"
    assert _state(svc, "HF-2") == "rolled_back"
    assert _state(svc, "HF-1") == "deployed"
    status = {s["env"]: s for s in svc.cli("status", "--json").items()}["flaky"]
    assert status["version"] == "1.4.2" and status["locked"]


def test_a_failed_rollback_locks_but_does_not_mark_the_hotfix(svc, monkeypatch):
    assert svc.cli("adopt", "--env", "flaky", "--ref", "v1.4.1", "--reason", "ran before").code == 0
    approved_hotfix(svc)
    assert svc.cli("deploy", "HF-1", "--env", "flaky").code == 0
    monkeypatch.setenv("BAD_VERSIONS", "1.4.1")
    rb = svc.cli("rollback", "--env", "flaky", "--reason", "drill")
    assert rb.code == 3
    assert _state(svc, "HF-1") == "deployed"
    status = {s["env"]: s for s in svc.cli("status", "--json").items()}["flaky"]
    assert status["version"] == "1.4.2" and status["locked"]


def test_a_dead_runners_command_blocks_the_next_run_until_cancelled(svc):
    approved_hotfix(svc)
    d = svc.cli("deploy", "HF-1", "--env", "quiet", "--detach", "--json").json()
    pid, pgid = runner_ids(svc)
    try:
        orphan_the_run(svc, pid)
        assert group_members(pgid), "the command outlives its runner"
        # readers record the run as interrupted; the hotfix is no longer `deploying`
        assert _state(svc, "HF-1") == "failed"
        again = svc.cli("deploy", "HF-1", "--env", "quiet", "--detach")
        assert_one_line_error(again, 1, f"the command of interrupted deploy {d['key']} is "
                                        "still running")
        assert_one_line_error(svc.cli("rollback", "--env", "quiet", "--reason", "x"), 1,
                              "still running")
        stopped = svc.cli("cancel", d["key"])
        assert stopped.code == 0, stopped.err
        assert group_members(pgid) == []
        assert svc.cli("cancel", d["key"]).code == 1  # nothing left to stop
        assert svc.cli("deploy", "HF-1", "--env", "quiet", "--detach").code == 0
    finally:
        kill_every_command(svc)


def test_a_run_still_starting_is_not_taken_for_lost(tmp_path):
    store = open_store(tmp_path / "x.db")
    with store.write():
        row = insert_run(store, env="production", kind="deploy", argv=["true"], workdir="",
                         started_by="alice", started_by_verified=True,
                         started_at=iso(utcnow() - timedelta(seconds=30)))
        store.execute("UPDATE deploys SET heartbeat_at = started_at WHERE id = ?",
                      (row["id"],))
    assert not runner_lost(run_row(store, row["id"]))  # no pid yet: checking out the tree
    with store.write():
        store.execute("UPDATE deploys SET heartbeat_at = ? WHERE id = ?",
                      (iso(utcnow() - timedelta(seconds=600)), row["id"]))
    assert runner_lost(run_row(store, row["id"]))


def test_finish_needs_a_production_deploy(svc):
    approved_hotfix(svc)
    assert svc.cli("deploy", "HF-1", "--env", "scripted").code == 0
    res = svc.cli("verify", "HF-1", "--env", "production")
    assert res.code == 1  # production does not run it
    refused = svc.cli("finish", "HF-1", "--skip-verify", "staging only")
    assert_one_line_error(refused, 1, "never deployed to production")
    assert git(svc.path, "tag", "--list", "v1.4.2") == ""


def test_an_approval_after_the_fact_covers_exactly_what_shipped(svc):
    assert svc.cli("start", "--incident", "INC-1", "--title", "Emergency").code == 0
    assert svc.cli("pick", "HF-1", svc.fix).code == 0
    assert svc.cli("deploy", "HF-1", "--env", "production", "--break-glass", "down").code == 0
    wt = Path(svc.cli("show", "HF-1", "--json").json()["worktree"])
    commit_file(wt, "app/later.py", "x = 1\n", "A change after the break-glass deploy")
    res = svc.cli("approve", "HF-1", actor="bob")
    assert_one_line_error(res, 1, "the head moved since the break-glass deploy")
    assert svc.cli("show", "HF-1", "--json").json()["needs_retroactive_approval"] is True


def test_confirmations_pin_what_they_showed(svc):
    approved_hotfix(svc)
    ctx = services.open_context(repo=svc.path)
    with pytest.raises(PolicyRefusal, match="changed since you looked"):
        services.deploy(ctx, "HF-1", "production", expected_head="0" * 40)
    assert svc.cli("deploy", "HF-1", "--env", "production").code == 0
    pv = services.rollback_preview(ctx, "production")
    with pytest.raises(PolicyRefusal, match="changed since you looked"):
        services.rollback(ctx, "production", "drill", expected=(pv.target_sha, pv.current_sha))
    assert svc.cli("deploys", "--json").items()[0]["kind"] == "deploy"


def test_a_long_running_context_judges_approvals_by_the_config_of_now(svc, monkeypatch):
    approved_hotfix(svc)
    monkeypatch.setenv("HOTFIX_ACTOR", "alice")
    console = services.open_context(repo=svc.path)  # opened before the config changes
    _cfg(svc).write_text(_cfg(svc).read_text() + "\n# reviewed\n")
    git(svc.path, "commit", "-qam", "Touch the config")
    assert _state(svc, "HF-1") == "in_review"  # the change made the approval stale
    assert svc.cli("approve", "HF-1", actor="bob").code == 0
    services.sync(console, "HF-1")  # the console's next refresh
    assert services.get_hotfix(console, "HF-1").state == "approved"


def test_a_readonly_context_writes_nothing(svc):
    approved_hotfix(svc)
    wt = Path(svc.cli("show", "HF-1", "--json").json()["worktree"])
    commit_file(wt, "app/later.py", "x = 1\n", "A change after approval")
    db = svc.path / ".git" / "hotfix" / "hotfix.db"
    conn = sqlite3.connect(db)
    before = conn.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    conn.close()
    reader = services.open_context(repo=svc.path)
    reader.readonly = True
    services.views.hotfix_detail(reader, "HF-1")
    services.views.dashboard(reader)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM audit_events").fetchone()[0] == before
    conn.close()


def test_the_override_must_be_committed(tmp_path):
    svc = deploy_repo(tmp_path)
    cfg = _cfg(svc)
    cfg.write_text(cfg.read_text().replace("allow_override = true", "allow_override = false")
                   .replace("sandbox = true", "sandbox = false"))
    git(svc.path, "commit", "-qam", "No overrides")
    cfg.write_text(cfg.read_text().replace("allow_override = false", "allow_override = true"))
    res = svc.cli("incident", "open", "--title", "t", "--sev", "2", "--json", actor="mallory")
    assert res.code == 0
    assert res.json()["opened_by"] != "mallory"
    assert "not in the committed one" in res.err


def test_a_relative_release_path_is_refused(tmp_path):
    from hotfix_tui.config import parse_config
    from hotfix_tui.core.errors import ConfigError

    with pytest.raises(ConfigError, match="must be an absolute path"):
        parse_config('[environments.p]\ndriver = "local-symlink"\npath = "prodroot"\n')


def test_after_a_failed_rollback_the_next_rollback_tries_the_same_release(svc, monkeypatch):
    assert svc.cli("adopt", "--env", "flaky", "--ref", "v1.4.1", "--reason", "ran before").code == 0
    approved_hotfix(svc)
    assert svc.cli("deploy", "HF-1", "--env", "flaky").code == 0
    monkeypatch.setenv("BAD_VERSIONS", "1.4.1")
    assert svc.cli("rollback", "--env", "flaky", "--reason", "drill").code == 3
    monkeypatch.delenv("BAD_VERSIONS")
    again = svc.cli("rollback", "--env", "flaky", "--reason", "drill, again", "--json")
    assert again.code == 0, again.err
    d = again.json()
    assert d["version"] == "1.4.1" and d["previous_version"] == "1.4.2"
    assert _state(svc, "HF-1") == "rolled_back"
