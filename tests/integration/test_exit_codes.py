"""Commands that wait on a run end with its outcome, so a script can wait for one:
0 succeeded, 3 failed, 4 cancelled, 5 timed out, 6 interrupted (README, "Exit codes").
Each outcome is produced for real (a script that fails or hangs, `hotfix cancel`, a
timeout, a runner killed with SIGKILL) and seen through `deploy`, `verify` and
`log --follow`, each a real process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

import pytest

from tests.helpers import GIT_ENV, Result
from tests.integration.deploy_helpers import approved_hotfix, deploy_repo, runner_ids

# One script for deploy and verify; what it does is chosen by $OUTCOME in the runner's
# environment (inherited from the command that starts the run).
CONTROLLED = """#!/bin/sh
echo "outcome: $OUTCOME"
case "$OUTCOME" in
  fail) echo "it broke" >&2; exit 1;;
  hang) sleep 60;;
esac
echo done
"""
CONFIG = """
[environments.ctl]
deploy = ["./ops/ctl.sh"]
verify = ["./ops/ctl.sh"]
timeout_s = 60
cancel_grace_s = 1

[environments.short]
deploy = ["./ops/ctl.sh"]
verify = ["./ops/ctl.sh"]
timeout_s = 1
cancel_grace_s = 1
"""
OUTCOMES = {"succeeded": 0, "failed": 3, "cancelled": 4, "timed_out": 5, "interrupted": 6}


@pytest.fixture
def svc(tmp_path):
    s = deploy_repo(tmp_path, extra_config=CONFIG, files={"ops/ctl.sh": CONTROLLED})
    approved_hotfix(s)
    yield s
    # whatever happened, leave no command running
    import sqlite3

    conn = sqlite3.connect(s.path / ".git" / "hotfix" / "hotfix.db")
    for (g,) in conn.execute("SELECT pgid FROM deploys WHERE pgid IS NOT NULL"):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(g, signal.SIGKILL)
    conn.close()


def _spawn(svc, *args: str, outcome: str) -> subprocess.Popen:
    env = {**os.environ, **GIT_ENV, "HOTFIX_ACTOR": "alice", "OUTCOME": outcome}
    return subprocess.Popen([sys.executable, "-m", "hotfix_tui", *args], cwd=svc.path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _drive(svc, outcome: str, run_id: int) -> None:
    """Make a hanging run end the way `outcome` says."""
    if outcome == "cancelled":
        pid, _ = runner_ids(svc, run_id)
        assert svc.cli("cancel", f"D-{run_id}").code == 0
    elif outcome == "interrupted":
        pid, _ = runner_ids(svc, run_id)
        os.kill(pid, signal.SIGKILL)  # the runner vanishes; readers call it interrupted


def _script_outcome(outcome: str) -> str:
    return {"succeeded": "ok", "failed": "fail"}.get(outcome, "hang")


def _env(outcome: str) -> str:
    return "short" if outcome == "timed_out" else "ctl"


def _finish(proc: subprocess.Popen) -> Result:
    out, err = proc.communicate(timeout=90)
    return Result(proc.returncode, out, err)


def _status(svc, run_id: int) -> str:
    return svc.cli("log", f"D-{run_id}", "--json").json()["run"]["status"]


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_deploy_exits_with_the_outcome(svc, outcome):
    proc = _spawn(svc, "deploy", "HF-1", "--env", _env(outcome),
                  outcome=_script_outcome(outcome))
    _drive(svc, outcome, 1)
    res = _finish(proc)
    assert res.code == OUTCOMES[outcome], (res.out, res.err)
    assert _status(svc, 1) == outcome
    assert res.out.splitlines()[-1].startswith(f"D-1: {outcome}")


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_log_follow_exits_with_the_outcome(svc, outcome, monkeypatch):
    monkeypatch.setenv("OUTCOME", _script_outcome(outcome))
    started = svc.cli("deploy", "HF-1", "--env", _env(outcome), "--detach", "--json")
    assert started.code == 0, started.err
    proc = _spawn(svc, "log", "D-1", "--follow", outcome="ok")
    _drive(svc, outcome, 1)
    res = _finish(proc)
    assert res.code == OUTCOMES[outcome], (res.out, res.err)
    assert _status(svc, 1) == outcome
    # following a run that already ended answers at once, with the same code
    again = svc.cli("log", "D-1", "--follow")
    assert again.code == OUTCOMES[outcome]


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_verify_exits_with_the_outcome(svc, outcome, monkeypatch):
    env = _env(outcome)
    monkeypatch.setenv("OUTCOME", "ok")
    assert svc.cli("deploy", "HF-1", "--env", env).code == 0
    proc = _spawn(svc, "verify", "HF-1", "--env", env, "--json",
                  outcome=_script_outcome(outcome))
    _drive(svc, outcome, 2)
    res = _finish(proc)
    assert res.code == OUTCOMES[outcome], (res.out, res.err)
    assert res.json()["status"] == outcome and res.json()["kind"] == "verify"


def test_a_refused_deploy_exits_1_and_a_bad_option_2(svc):
    from tests.helpers import assert_one_line_error

    assert_one_line_error(svc.cli("deploy", "HF-9", "--env", "ctl"), 1, "unknown hotfix HF-9")
    assert_one_line_error(svc.cli("deploy", "HF-1", "--env", "ctl", "--bogus"), 2)
    assert svc.cli("deploys", "--json").items() == []
