"""Deploy, verify, rollback, locks and break-glass through the CLI, with real runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import GIT_ENV, assert_one_line_error, commit_file, run_proc
from tests.integration.deploy_helpers import approved_hotfix, deploy_repo


@pytest.fixture
def svc(tmp_path):
    return deploy_repo(tmp_path)


def _current(svc) -> str:
    return os.readlink(svc.srv / "production" / "current")


def test_deploy_verify_rollback_unlock(svc):
    approved_hotfix(svc)
    res = svc.cli("deploy", "HF-1", "--env", "production")
    assert res.code == 0, res.err
    assert "done: 1.4.2-" in res.out and res.out.strip().endswith("succeeded")
    assert _current(svc).startswith("releases/1.4.2-")
    status = {s["env"]: s for s in svc.cli("status", "--json").items()}
    assert status["production"]["version"] == "1.4.2"
    assert status["production"]["deployed_by"] == "alice"
    assert svc.cli("show", "HF-1", "--json").json()["state"] == "deployed"

    ver = svc.cli("verify", "HF-1", "--env", "production")
    assert ver.code == 0, ver.err
    assert "health check ok" in ver.out
    assert svc.cli("show", "HF-1", "--json").json()["state"] == "verified"

    rb = svc.cli("rollback", "--env", "production", "--reason", "error rate up", actor="carol")
    assert rb.code == 0, rb.err
    assert _current(svc).startswith("releases/1.4.1-")
    status = {s["env"]: s for s in svc.cli("status", "--json").items()}["production"]
    assert status["version"] == "1.4.1" and status["locked"] is True
    assert "error rate up" in status["lock_reason"]
    assert svc.cli("show", "HF-1", "--json").json()["state"] == "rolled_back"
    deploys = svc.cli("deploys", "--json").items()
    assert [d["kind"] for d in deploys] == ["rollback", "verify", "deploy"]
    assert deploys[0]["started_by"] == "carol" and deploys[0]["status"] == "succeeded"
    timeline = svc.cli("timeline", "INC-1").out
    assert "D-2 verify 1.4.2 on production started" in timeline
    assert "D-3 rollback of production to 1.4.1 started: error rate up" in timeline

    # a locked environment takes no deploys, and unlocking needs a reason
    approved_hotfix(svc, "HF-2", "Second try")
    blocked = svc.cli("deploy", "HF-2", "--env", "production")
    assert_one_line_error(blocked, 1, "locked by carol")
    assert_one_line_error(svc.cli("unlock", "--env", "production"), 2, "--reason")
    assert_one_line_error(svc.cli("unlock", "--env", "production", "--reason", "  "), 1,
                          "needs a --reason")
    assert svc.cli("unlock", "--env", "production", "--reason", "cause fixed").code == 0
    assert svc.cli("deploy", "HF-2", "--env", "production").code == 0


def test_the_scripted_environment_streams_stdout_and_stderr(svc):
    approved_hotfix(svc)
    res = svc.cli("deploy", "HF-1", "--env", "scripted", "--detach", "--json")
    assert res.code == 0, res.err
    d = res.json()
    assert d["key"] == "D-1" and d["status"] == "running" and d["kind"] == "deploy"
    log = svc.cli("log", "D-1", "--follow")
    assert log.code == 0
    assert "deploying 1.4.2" in log.out and "[stderr] warning: slow pod" in log.out
    lines = svc.cli("log", "D-1", "--json").json()["lines"]
    assert [ln["seq"] for ln in lines] == list(range(1, len(lines) + 1))
    assert {"out", "err", "sys"} <= {ln["stream"] for ln in lines}
    shown = svc.cli("deploys", "--hotfix", "HF-1", "--json").items()[0]
    for k in ("key", "hotfix", "env", "kind", "status", "exit_code", "signal", "sha", "version",
              "started_by", "started_at", "finished_at", "line_count", "break_glass"):
        assert k in shown
    assert shown["status"] == "succeeded" and shown["exit_code"] == 0


def test_a_stale_approval_blocks_the_deploy(svc):
    approved_hotfix(svc)
    wt = Path(svc.cli("show", "HF-1", "--json").json()["worktree"])
    commit_file(wt, "app/extra.py", "x = 1\n", "A change after the approval")
    res = svc.cli("deploy", "HF-1", "--env", "production")
    assert_one_line_error(res, 1, "approval stale: head moved")
    assert svc.cli("deploys", "--json").items() == []
    assert not (svc.srv / "production" / "current").exists()


def test_break_glass_is_recorded_and_flagged(svc):
    assert svc.cli("start", "--incident", "INC-1", "--title", "Emergency").code == 0
    assert svc.cli("pick", "HF-1", svc.fix).code == 0
    refused = svc.cli("deploy", "HF-1", "--env", "production")
    assert_one_line_error(refused, 1, "not approved")
    res = svc.cli("deploy", "HF-1", "--env", "production", "--break-glass",
                  "checkout down, approver unreachable")
    assert res.code == 0, res.err
    assert "BREAK-GLASS" in res.err
    d = svc.cli("deploys", "--json").items()[0]
    assert d["break_glass"] is True
    assert d["break_glass_reason"] == "checkout down, approver unreachable"
    hf = svc.cli("show", "HF-1", "--json").json()
    assert hf["break_glass"] is True and hf["needs_retroactive_approval"] is True
    assert "BREAK-GLASS" in svc.cli("show", "HF-1").out
    assert "BREAK-GLASS" in svc.cli("deploys").out
    # the approval after the fact clears the debt, and is marked as such
    assert_one_line_error(svc.cli("approve", "HF-1"), 1, "you authored")
    later = svc.cli("approve", "HF-1", "--json", actor="bob").json()
    assert later["needs_retroactive_approval"] is False and later["break_glass"] is True
    assert later["approvals"][-1]["retroactive"] is True


SLOW_ENV = '[environments.slow]\ndeploy = ["sleep", "60"]\ntimeout_s = 120\ncancel_grace_s = 1\n'


def test_two_deploys_at_the_same_moment(tmp_path):
    # A deploy that lasts: whichever process wins, the other must find it in progress
    # (with a deploy that ends at once, both could win one after the other).
    svc = deploy_repo(tmp_path, SLOW_ENV)
    approved_hotfix(svc, "HF-1", "One")
    approved_hotfix(svc, "HF-2", "Two")
    env = {**os.environ, **GIT_ENV, "HOTFIX_ACTOR": "alice"}
    procs = [subprocess.Popen([sys.executable, "-m", "hotfix_tui", "deploy", key, "--env",
                               "slow", "--detach"], cwd=svc.path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for key in ("HF-1", "HF-2")]
    results = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
    codes = sorted(r[2] for r in results)
    assert codes == [0, 1], results
    loser = next(r for r in results if r[2] == 1)
    assert "slow: deploy D-" in loser[1] and "in progress, started by alice at" in loser[1]
    runs = svc.cli("deploys", "--json").json()["items"]
    assert len(runs) == 1
    assert svc.cli("cancel", runs[0]["key"]).code == 0


BAD_ENVS = [
    ('[environments.bad]\ndeploy = ["./ops/deploy.sh", "{sah}"]\n', "unknown placeholder {sah}"),
    ('[environments.bad]\ndeploy = ["./ops/missing.sh"]\n', "does not exist"),
    ('[environments.bad]\ndeploy = ["./tools/notexec.sh"]\n', "is not executable"),
    ('[environments.bad]\ndeploy = ["no-such-program-xyz"]\n', "not found on PATH"),
    ('[environments.bad]\ndeploy = []\n', "is empty"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_ENVS,
                         ids=["placeholder", "missing", "notexec", "notonpath", "empty"])
def test_bad_environment_config_runs_nothing(tmp_path, extra, message):
    svc = deploy_repo(tmp_path, files={"tools/notexec.sh": "#!/bin/sh\n"})
    approved_hotfix(svc)
    cfg = svc.path / ".hotfix.toml"
    cfg.write_text(cfg.read_text() + extra)
    # the config changed: approve again so only the environment is wrong
    if "placeholder" not in message:
        assert svc.cli("approve", "HF-1", actor="bob").code == 0
    audit_before = svc.cli("audit", "verify", "--json").json()["events"] \
        if "placeholder" not in message else None
    res = svc.cli("deploy", "HF-1", "--env", "bad")
    assert_one_line_error(res, 1, message)
    cfg.write_text(cfg.read_text().replace(extra, ""))
    assert svc.cli("deploys", "--json").items() == []
    if audit_before is not None:
        assert svc.cli("audit", "verify", "--json").json()["events"] == audit_before


def test_unknown_environment(svc):
    approved_hotfix(svc)
    assert_one_line_error(svc.cli("deploy", "HF-1", "--env", "qa"), 1,
                          "unknown environment 'qa'")
    assert_one_line_error(svc.cli("rollback", "--env", "qa", "--reason", "x"), 1,
                          "unknown environment")
    assert svc.cli("deploys", "--json").items() == []


def test_rollback_refused_while_a_run_is_in_progress(tmp_path):
    svc = deploy_repo(tmp_path, files={"ops/slow.sh": "#!/bin/sh\necho start\nsleep 30\n"},
                      extra_config='[environments.slow]\ndeploy = ["./ops/slow.sh"]\n'
                                   'cancel_grace_s = 1\n')
    approved_hotfix(svc)
    assert svc.cli("adopt", "--env", "slow", "--ref", "v1.4.0", "--reason", "ran before").code == 0
    d = svc.cli("deploy", "HF-1", "--env", "slow", "--detach", "--json").json()
    res = svc.cli("rollback", "--env", "slow", "--reason", "bad")
    assert_one_line_error(res, 1, f"cancel it first (hotfix cancel {d['key']})")
    cancelled = svc.cli("cancel", d["key"], "--json")
    assert cancelled.code == 0, cancelled.err
    from hotfix_tui.deploy.runner import wait_finished

    final = wait_finished(str(svc.path / ".git" / "hotfix" / "hotfix.db"), 1, timeout=30)
    assert str(final.status) == "cancelled" and final.cancelled_by == "alice"


def test_the_demo_goes_staging_then_verify_then_production(tmp_path):
    res = run_proc(["demo", "--dir", str(tmp_path / "demo"), "--no-tui"], cwd=tmp_path)
    assert res.code == 0, res.err
    repo = tmp_path / "demo" / "shop-checkout"
    current = tmp_path / "demo" / "srv" / "production" / "current"
    assert os.readlink(current).startswith("releases/1.4.1-")

    def cli(*args, actor=None):
        env = {"HOTFIX_ACTOR": actor} if actor else {}
        out = run_proc(list(args), cwd=repo, env=env)
        assert out.code == 0, (args, out.err)
        return out

    assert "Checkout fails with HTTP 500" in cli("incident", "list").out
    cli("start", "--incident", "INC-2", "--title", "Cap gift card redemption")
    cli("pick", "HF-1", "main~3")
    cli("edit", "HF-1", "--why", "negative totals", "--risk", "low", "--test-plan",
        "healthcheck", "--rollback-plan", "rollback to 1.4.1")
    for n in ("1", "2", "3"):
        cli("check", "HF-1", n)
    cli("submit", "HF-1")
    cli("approve", "HF-1", actor="bob")
    # the demo's release path: staging, verified there, before production
    assert 'requires = ["staging"]' in (repo / ".hotfix.toml").read_text()
    first = run_proc(["deploy", "HF-1", "--env", "production"], cwd=repo)
    assert_one_line_error(first, 1, "production requires staging first")
    assert os.readlink(current).startswith("releases/1.4.1-")
    assert "staging now runs 1.4.2" in cli("deploy", "HF-1", "--env", "staging").out
    assert "health check passed" in cli("verify", "HF-1", "--env", "staging").out
    shown = cli("show", "HF-1", "--json").json()
    assert shown["state"] == "deployed"
    assert [(e["env"], e["state"]) for e in shown["environments"]] == [("staging", "passed")]
    out = cli("deploy", "HF-1", "--env", "production").out
    assert "is live" in out
    assert os.readlink(current).startswith("releases/1.4.2-")
    health = cli("verify", "HF-1", "--env", "production").out
    assert "health check passed" in health
    cli("verify", "HF-1", "--env", "production", "--item", "1")
    assert cli("show", "HF-1", "--json").json()["state"] == "verified"
    # the health check really checks what is live: 1.4.1 has the bug
    check = subprocess.run([str(repo / "ops" / "healthcheck.sh"),
                            str(tmp_path / "demo" / "srv" / "production" / "releases" /
                                os.readlink(current).split("/")[-1])],
                           capture_output=True, text=True)
    assert check.returncode == 0
    cli("rollback", "--env", "production", "--reason", "drill")
    assert os.readlink(current).startswith("releases/1.4.1-")
    bad = subprocess.run([str(repo / "ops" / "healthcheck.sh"), str(current)],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "payment provider 500" in bad.stderr


def test_demo_refuses_a_non_empty_dir(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    res = run_proc(["demo", "--dir", str(target), "--no-tui"], cwd=tmp_path)
    assert_one_line_error(res, 1, "not empty")
    forced = run_proc(["demo", "--dir", str(target), "--no-tui", "--force"], cwd=tmp_path)
    assert_one_line_error(forced, 1, "not a hotfix demo sandbox")
    assert (target / "notes.txt").read_text() == "keep me"
    first = run_proc(["demo", "--dir", str(tmp_path / "d"), "--no-tui"], cwd=tmp_path)
    assert first.code == 0
    again = run_proc(["demo", "--dir", str(tmp_path / "d"), "--no-tui", "--force"],
                     cwd=tmp_path)
    assert again.code == 0
    reuse = run_proc(["demo", "--dir", str(tmp_path / "d"), "--no-tui", "--reuse"],
                     cwd=tmp_path)
    assert reuse.code == 0
