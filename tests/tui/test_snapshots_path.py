"""Snapshots of the release path on fixed data and frozen time: the deploy modal (every
environment in promotion order, the next one preselected, what each still needs), the
hotfix header and the environment strip with per-environment verification."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotfix_tui import services
from hotfix_tui.deploy.lifecycle import finish_run
from hotfix_tui.store import open_store
from hotfix_tui.store.runs import insert_run
from hotfix_tui.tui.app import HotfixApp
from tests.helpers import make_service_repo
from tests.tui.conftest import FROZEN, settle

FIXED_DATE = "2026-11-20T10:00:00+00:00"
SIZES = [(80, 24), (160, 48)]
CONFIG = """\
[identity]
allow_override = true
sandbox = true  # one OS account plays alice and bob

[scope]
checklist = ["Root cause understood"]

[environments.production]
requires = ["staging"]
min_soak_s = 300
deploy = ["./ops/deploy.sh", "{version}", "{short_sha}"]
verify = ["./ops/healthcheck.sh"]

[environments.staging]
deploy = ["./ops/deploy.sh", "{version}", "{short_sha}"]
verify = ["./ops/healthcheck.sh"]
"""
SCRIPT = "#!/bin/sh\necho deploying $1\n"


def at(seconds: int) -> str:
    return (FROZEN + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture
def path_world(tmp_path, monkeypatch):
    """HF-1 approved, deployed to staging ten minutes ago and verified there two minutes
    ago: production requires staging and a five-minute soak."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", FIXED_DATE)
    monkeypatch.setenv("GIT_COMMITTER_DATE", FIXED_DATE)
    svc = make_service_repo(tmp_path / "shop", config=CONFIG,
                            extra={"ops/deploy.sh": SCRIPT, "ops/healthcheck.sh": SCRIPT})

    def ctx(actor):
        monkeypatch.setenv("HOTFIX_ACTOR", actor)
        return services.open_context(repo=svc.path, clock=lambda: FROZEN)

    alice = ctx("alice")
    inc = services.open_incident(alice, "Checkout totals wrong", 1, "checkout")
    services.start_hotfix(alice, inc.key, "Fix checkout total ignoring quantity")
    services.pick(alice, "HF-1", [svc.fix])
    services.edit(alice, "HF-1", why="Totals ignore the quantity.", risk="Low.",
                  test_plan="Unit tests.", rollback_plan="Back to 1.4.1.")
    services.check(alice, "HF-1", 1)
    services.submit(alice, "HF-1")
    services.approve(ctx("bob"), "HF-1")
    for env in ("production", "staging"):
        services.adopt(alice, env, "v1.4.1", "released before the incident")
    head = services.get_hotfix(alice, "HF-1").head_sha
    store = open_store(alice.db_path)
    with store.write():  # as services.deploy leaves it, without starting a runner
        store.execute("UPDATE hotfixes SET state = 'deploying' WHERE id = 1")
    for kind, started, ended in (("deploy", -660, -600), ("verify", -150, -120)):
        with store.write():
            row = insert_run(store, env="staging", kind=kind, argv=["./ops/deploy.sh"],
                             workdir="", started_by="alice", started_by_verified=False,
                             started_at=at(started), hotfix_id=1, sha=head, version="1.4.2",
                             gate_env="production", later_envs=("production",))
        finish_run(store, row["id"], "succeeded", exit_code=0, now=at(ended))
    store.close()
    return ctx("alice")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_deploy_modal_shows_the_release_path(snap_compare, path_world, size):
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    async def ready(pilot):
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert type(pilot.app.screen).__name__ == "DeployModal"

    app = HotfixApp(path_world, start_screen=HotfixScreen("HF-1"), watch_interval=3600)
    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard_shows_verification_per_environment(snap_compare, path_world, size):
    async def ready(pilot):
        await settle(pilot)
        await pilot.press("down")  # the hotfix: its line names each environment's state
        await settle(pilot)

    app = HotfixApp(path_world, watch_interval=3600)
    assert snap_compare(app, terminal_size=size, run_before=ready)


async def test_break_glass_says_which_rules_it_bypasses(path_world):
    from hotfix_tui.tui.screens.hotfix import HotfixScreen
    from tests.tui.conftest import screen_text

    app = HotfixApp(path_world, start_screen=HotfixScreen("HF-1"), watch_interval=3600)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("B")
        await settle(pilot)
        assert type(app.screen).__name__ == "TypedConfirmModal"
        flat = " ".join(screen_text(app).replace("█", " ").split())
        assert "BREAK-GLASS: deploy HF-1 (1.4.2" in flat
        assert "It bypasses the release path: production requires staging to soak: staging " \
               "verified 2 min ago; soak 5 min (3 min to go)" in flat
