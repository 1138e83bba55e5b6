"""`hotfix status --json` says how long a run in progress usually takes there: the median
of that environment's successful runs of its kind (`expected_s`), null without any; the
document keeps to its published schema either way."""

from __future__ import annotations

import time

from tests.integration.deploy_helpers import approved_hotfix, deploy_repo, kill_every_command
from tests.schemas import problems


def _running(svc, env: str) -> dict:
    """The run in progress on `env`, once status shows it (the run is started by its own
    process), after checking the whole document against its schema."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        doc = svc.cli("status", "--json").json()
        assert problems(doc, "environment-list.json") == []
        running = next(e for e in doc["items"] if e["env"] == env)["running"]
        if running is not None:
            return running
        time.sleep(0.1)
    raise AssertionError(f"no run in progress on {env}")


def _ended(svc, key: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = next(r for r in svc.cli("deploys", "--json").items() if r["key"] == key)
        if run["status"] != "running":
            return
        time.sleep(0.1)
    raise AssertionError(f"{key} never ended")


def test_a_run_in_progress_carries_the_usual_duration_or_null(tmp_path):
    slow = tmp_path / "slow"  # while it exists, the deploy lasts until cancelled
    script = f"#!/bin/sh\nif [ -e '{slow}' ]; then sleep 60; fi\necho done\n"
    svc = deploy_repo(tmp_path, files={"ops/maybe_slow.sh": script}, extra_config="""
[environments.usual]
deploy = ["./ops/maybe_slow.sh"]
cancel_grace_s = 1

[environments.fresh]
deploy = ["./ops/maybe_slow.sh"]
cancel_grace_s = 1
""")
    try:
        approved_hotfix(svc)
        assert svc.cli("deploy", "HF-1", "--env", "usual").code == 0  # quick: one success
        slow.touch()
        fresh = svc.cli("deploy", "HF-1", "--env", "fresh", "--detach", "--json").json()
        running = _running(svc, "fresh")
        assert running["key"] == fresh["key"] and running["expected_s"] is None
        assert svc.cli("cancel", fresh["key"]).code == 0
        _ended(svc, fresh["key"])
        usual = svc.cli("deploy", "HF-1", "--env", "usual", "--detach", "--json")
        assert usual.code == 0, usual.err
        running = _running(svc, "usual")
        assert running["key"] == usual.json()["key"]
        assert isinstance(running["expected_s"], float), running
        assert 0 < running["expected_s"] < 60, running  # the quick run's, not the slow one's
    finally:
        kill_every_command(svc)
