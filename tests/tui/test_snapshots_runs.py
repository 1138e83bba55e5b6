"""Snapshots of the deploy pane (running, failed, interrupted, wrapped), the rollback, deploy
and verify dialogs, the history browser with a filter and the command log, at 80x24 (and
60x20 and 160x48 where the layout changes), on fixed data and frozen time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotfix_tui import services
from hotfix_tui.deploy.lifecycle import finish_run
from hotfix_tui.gitops import CommandRecord
from hotfix_tui.store import open_store
from hotfix_tui.store.runs import insert_run
from hotfix_tui.tui.app import HotfixApp
from tests.helpers import git, make_service_repo
from tests.tui.conftest import FROZEN, settle, wait_for

FIXED_DATE = "2026-11-20T10:00:00+00:00"
CONFIG = """\
[identity]
allow_override = true
sandbox = true  # one OS account plays alice and bob

[scope]
checklist = ["Root cause understood"]

[environments.production]
deploy = ["./ops/deploy.sh", "{version}", "{short_sha}"]
verify = ["./ops/healthcheck.sh"]
verify_items = ["Checkout error rate back to baseline"]

[environments.staging]
deploy = ["./ops/deploy.sh", "{version}", "{short_sha}"]
"""
SCRIPT = "#!/bin/sh\necho deploying $1\n"


def at(seconds: int) -> str:
    return (FROZEN + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture
def runs_world(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_AUTHOR_DATE", FIXED_DATE)
    monkeypatch.setenv("GIT_COMMITTER_DATE", FIXED_DATE)
    svc = make_service_repo(tmp_path / "shop", config=CONFIG,
                            extra={"ops/deploy.sh": SCRIPT, "ops/healthcheck.sh": SCRIPT})
    repo = svc.path
    monkeypatch.setenv("HOTFIX_ACTOR", "alice")
    # the console looks 4 s after the runs started: the running staging deploy is 4 s
    # into the 8 s its one earlier success took
    ctx = services.open_context(repo=repo, clock=lambda: FROZEN + timedelta(seconds=4))
    inc = services.open_incident(ctx, "Checkout totals wrong", 1, "checkout")
    services.start_hotfix(ctx, inc.key, "Fix checkout total ignoring quantity")
    services.pick(ctx, "HF-1", [svc.fix])
    services.edit(ctx, "HF-1", why="Totals ignore the quantity.", risk="Low.",
                  test_plan="Unit tests.", rollback_plan="Back to 1.4.1.")
    services.check(ctx, "HF-1", 1)
    services.submit(ctx, "HF-1")
    for env in ("production", "staging"):
        services.adopt(ctx, env, "v1.4.1", "released before the incident")
    head = services.get_hotfix(ctx, "HF-1").head_sha
    v141 = git(repo, "rev-parse", "v1.4.1^{commit}")
    store = open_store(ctx.db_path)

    def run(env, kind, status, lines, exit_code=None, signal=None, heartbeat=None):
        with store.write():
            row = insert_run(store, env=env, kind=kind, argv=["./ops/deploy.sh", "1.4.2",
                                                              head[:12]],
                             workdir="", started_by="alice", started_by_verified=False,
                             started_at=at(0), hotfix_id=1, sha=head, version="1.4.2",
                             previous_sha=v141, previous_version="1.4.1")
            for seq, (stream, text, flags) in enumerate(lines, 1):
                store.execute("INSERT INTO deploy_lines VALUES (?, ?, ?, ?, ?, ?)",
                              (row["id"], seq, stream, at(seq), text, flags))
            store.execute("UPDATE deploys SET lines = ?, heartbeat_at = ?, host = '' "
                          "WHERE id = ?", (len(lines), heartbeat or at(len(lines)),
                                           row["id"]))
        if status != "running":
            finish_run(store, row["id"], status, exit_code=exit_code, signal=signal,
                       now=at(len(lines) + 1))
        return row["key"]

    steps = [("sys", "$ ./ops/deploy.sh 1.4.2 " + head[:12], 0),
             ("out", "==> deploying shop-checkout 1.4.2 to production", 0),
             ("out", "building artifact shop-checkout-1.4.2.tar.gz", 0),
             ("out", "uploading to artifact store (3.2 MiB)", 0),
             ("err", "warning: pod checkout-2 took 1.9s to become ready", 0),
             ("out", "rolling pod checkout-1/3: started 1.4.2, readiness probe ok", 0),
             ("out", "x" * 40 + " (line cut at 64 KiB)", 1),
             ("out", "payload: caf\ufffd au lait", 2)]
    ok = run("production", "deploy", "succeeded", steps + [("sys", "exit 0", 0)], exit_code=0)
    run("staging", "deploy", "succeeded", steps[:6] + [("sys", "exit 0", 0)], exit_code=0)
    failed = run("staging", "deploy", "failed",
                 steps[:4] + [("err", "error: readiness probe failed on checkout-3", 0),
                              ("sys", "exit 1", 0)], exit_code=1)
    interrupted = run("qa", "deploy", "running", steps[:3], heartbeat=at(3))
    running = run("staging", "deploy", "running", steps[:6], heartbeat="2999-01-01T00:00:00.000Z")
    store.close()
    return repo, ctx, {"ok": ok, "failed": failed, "interrupted": interrupted,
                       "running": running}


def _app(runs_world, start, readonly=False):
    repo, ctx, _ = runs_world
    return HotfixApp(ctx, readonly=readonly, start_screen=start, watch_interval=3600)


async def _ready(pilot):
    """Settled, after the console's first look at the database. The qa run's runner is
    gone: the first read records it, which is news to that look (a toast). The
    snapshots show the screens without any toast."""
    app = pilot.app
    assert await wait_for(pilot, lambda: app.watch_looked.is_set())
    await settle(pilot)
    app.clear_notifications()
    await settle(pilot)


SIZES = [(80, 24), (60, 20), (160, 48)]
IDS = {"ids": lambda s: f"{s[0]}x{s[1]}"}


@pytest.mark.parametrize("which", ["running", "failed", "interrupted"])
def test_deploy_pane(snap_compare, runs_world, which):
    from hotfix_tui.tui.screens.deploy import DeployScreen

    key = runs_world[2][which]
    app = _app(runs_world, DeployScreen(key, poll=3600), readonly=which == "interrupted")
    assert snap_compare(app, terminal_size=(80, 24), run_before=_ready)


@pytest.mark.parametrize("size", SIZES, **IDS)
def test_deploy_pane_running_with_its_estimate(snap_compare, runs_world, size):
    from hotfix_tui.tui.screens.deploy import DeployScreen

    app = _app(runs_world, DeployScreen(runs_world[2]["running"], poll=3600))
    assert snap_compare(app, terminal_size=size, run_before=_ready)


@pytest.mark.parametrize("size", SIZES, **IDS)
def test_deploy_pane_wrapped(snap_compare, runs_world, size):
    from hotfix_tui.tui.screens.deploy import DeployScreen

    async def ready(pilot):
        await _ready(pilot)
        await pilot.press("w")
        await settle(pilot)

    app = _app(runs_world, DeployScreen(runs_world[2]["ok"], poll=3600))
    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, **IDS)
def test_dashboard_with_a_run_in_progress(snap_compare, runs_world, size):
    from hotfix_tui.tui.screens.dashboard import DashboardScreen

    assert snap_compare(_app(runs_world, DashboardScreen()), terminal_size=size,
                        run_before=_ready)


@pytest.mark.parametrize("size", SIZES, **IDS)
def test_a_readonly_dashboard(snap_compare, runs_world, size):
    """No Rollback button on the strip, no write key in the footer, a read-only banner."""
    from hotfix_tui.tui.screens.dashboard import DashboardScreen

    assert snap_compare(_app(runs_world, DashboardScreen(), readonly=True),
                        terminal_size=size, run_before=_ready)


@pytest.mark.parametrize("size", SIZES, **IDS)
def test_rollback_modal(snap_compare, runs_world, size):
    async def ready(pilot):
        await _ready(pilot)
        await pilot.press("R")
        await settle(pilot)

    from hotfix_tui.tui.screens.dashboard import DashboardScreen

    assert snap_compare(_app(runs_world, DashboardScreen()), terminal_size=size,
                        run_before=ready)


@pytest.mark.parametrize("size", SIZES, **IDS)
@pytest.mark.parametrize("dialog", ["deploy", "verify"])
def test_deploy_and_verify_dialogs(snap_compare, runs_world, size, dialog):
    """The deploy dialog starts in its environment list, the verify dialog in its items:
    the focused input is marked."""
    from hotfix_tui.tui.flows.runs import DeployModal, VerifyModal
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    repo, ctx, _ = runs_world

    async def ready(pilot):
        await _ready(pilot)
        if dialog == "deploy":
            previews = {env: services.deploy_preview(ctx, "HF-1", env, False)
                        for env in ("production", "staging")}
            pilot.app.push_screen(DeployModal("HF-1", previews))
        else:
            items = services.verify_items(ctx, "HF-1", "production")
            pilot.app.push_screen(VerifyModal("HF-1", "production", items, True))
        await settle(pilot)

    app = _app(runs_world, HotfixScreen("HF-1"))
    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, **IDS)
def test_history_with_a_filter(snap_compare, runs_world, size):
    from hotfix_tui.tui.screens.history import HistoryScreen

    async def counted(pilot):
        await _ready(pilot)
        while pilot.app.screen.total is None:  # the total is counted after the rows show
            await settle(pilot, rounds=1)

    app = _app(runs_world, HistoryScreen("state:in_review quantity"), readonly=True)
    assert snap_compare(app, terminal_size=size, run_before=counted)


def test_command_log(snap_compare, runs_world):
    from hotfix_tui.tui.screens.commandlog import CommandLogScreen

    app = _app(runs_world, CommandLogScreen())
    app.command_log.extend([
        ("git", CommandRecord(("git", "rev-parse", "--verify", "refs/heads/hotfix/1.4.2"),
                              "/repo", 0, 0.004)),
        ("git", CommandRecord(("git", "cherry-pick", "-x", "--allow-empty", "0" * 40),
                              "/repo", 1, 0.052)),
        ("run", runs_world[2]["ok"]),
        ("run", runs_world[2]["failed"]),
    ])
    assert snap_compare(app, terminal_size=(80, 24), run_before=_ready)
