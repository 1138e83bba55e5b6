"""A run's worktree lives as long as its command: removed (and unregistered) when the run
ends, not at the next deploy; never while a command of it still runs there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, wait_for
from tests.integration.deploy_helpers import (
    approved_hotfix,
    deploy_repo,
    kill_every_command,
    orphan_the_run,
    runner_ids,
)


@pytest.fixture
def svc(tmp_path):
    svc = deploy_repo(tmp_path, files={"ops/slow.sh": "#!/bin/sh\necho up\nsleep 600\n"},
                      extra_config='[environments.slow]\ndeploy = ["./ops/slow.sh"]\n'
                                   "cancel_grace_s = 1\n")
    yield svc
    kill_every_command(svc)


def _registered(svc) -> list[str]:
    out = git(svc.path, "worktree", "list", "--porcelain")
    return [ln.split(" ", 1)[1] for ln in out.splitlines()
            if ln.startswith("worktree ") and "/hotfix/runs/" in ln]


def _run_dir(svc, key: str) -> Path:
    return svc.path / ".git" / "hotfix" / "runs" / key


def test_a_finished_run_removes_its_worktree(svc):
    approved_hotfix(svc)
    res = svc.cli("deploy", "HF-1", "--env", "production")
    assert res.code == 0, res.err
    wait_for(lambda: not _registered(svc) and not _run_dir(svc, "D-1").exists(),
             "D-1's worktree to be removed", timeout=20)
    res = svc.cli("verify", "HF-1", "--env", "production")
    assert res.code == 0, res.err
    wait_for(lambda: not _registered(svc) and not _run_dir(svc, "D-2").exists(),
             "D-2's worktree to be removed", timeout=20)
    assert not git(svc.path, "worktree", "list", "--porcelain").count("prunable")


def test_a_dead_runners_worktree_stays_while_its_command_runs(svc):
    approved_hotfix(svc)
    assert svc.cli("deploy", "HF-1", "--env", "slow", "--detach").code == 0
    pid, _ = runner_ids(svc)
    wait_for(lambda: "up" in svc.cli("log", "D-1").out, "the command to start")
    orphan_the_run(svc, pid)
    assert svc.cli("deploys", "--json").items()[0]["status"] == "interrupted"
    # another environment's run starts (and cleans up finished runs' worktrees) …
    approved_hotfix(svc, "HF-2", "Second")
    assert svc.cli("deploy", "HF-2", "--env", "scripted").code == 0
    # … but not the worktree an orphaned command still runs in
    assert _run_dir(svc, "D-1").is_dir()
    assert str(_run_dir(svc, "D-1")) in _registered(svc)
    res = svc.cli("cancel", "D-1")
    assert res.code == 0, res.err
    wait_for(lambda: str(_run_dir(svc, "D-1")) not in _registered(svc)
             and not _run_dir(svc, "D-1").exists(), "D-1's worktree to be removed",
             timeout=20)
