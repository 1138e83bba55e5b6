"""The deploy pane, rollback, cancel and history, driven through Pilot with real runs."""

from __future__ import annotations

import os
import signal
import sqlite3

import pytest
from textual.widgets import Input, Select

from hotfix_tui.tui.app import HotfixApp
from hotfix_tui.tui.widgets.logview import LogView
from tests.integration.deploy_helpers import (
    approved_hotfix,
    deploy_repo,
    kill_every_command,
    orphan_the_run,
    runner_ids,
)
from tests.tui.conftest import make_ctx, screen_text, settle, wait_for


def _name(app) -> str:
    return type(app.screen).__name__


def _state(svc, key="HF-1") -> str:
    return svc.cli("show", key, "--json").json()["state"]


@pytest.fixture
def svc(tmp_path):
    return deploy_repo(tmp_path, files={
        "ops/slow.sh": "#!/bin/sh\necho starting\nsleep 60\necho never\n",
        "ops/flood.sh": "#!/bin/sh\nseq -f 'flood line %g' 1 200000\n",
    }, extra_config='[environments.slow]\ndeploy = ["./ops/slow.sh"]\ncancel_grace_s = 1\n'
                    '[environments.flood]\ndeploy = ["./ops/flood.sh"]\n')


async def test_deploy_shows_the_live_log_then_verify(tmp_path, monkeypatch):
    from hotfix_tui.demo import create_demo

    repo = create_demo(tmp_path / "demo")
    from tests.helpers import run

    def cli(*args, actor="alice"):
        res = run(list(args), cwd=repo, env={"HOTFIX_ACTOR": actor})
        assert res.code == 0, (args, res.err)
        return res

    cli("start", "--incident", "INC-2", "--title", "Cap gift card redemption")
    cli("pick", "HF-1", "main~3")
    cli("edit", "HF-1", "--why", "w", "--risk", "r", "--test-plan", "t", "--rollback-plan", "b")
    for n in ("1", "2", "3"):
        cli("check", "HF-1", n)
    cli("submit", "HF-1")
    cli("approve", "HF-1", actor="bob")
    ctx = make_ctx(repo, "alice", monkeypatch)
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    app = HotfixApp(ctx, start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        assert await wait_for(pilot, lambda: _name(app) == "DeployModal")
        # promotion order, staging (the next one) preselected; production says what it needs
        env = app.screen.query_one("#env", Select)
        assert [str(v) for _, v in env._options] == ["staging", "production"]
        assert env.value == "staging"
        env.value = "production"
        await settle(pilot)
        text = screen_text(app)
        assert "production  requires staging first" in text  # the list says what it needs
        flat = " ".join(text.replace("█", " ").split())  # the modal wraps long lines
        assert "refused: production requires staging first: HF-1 has not been deployed to " \
               "staging (hotfix deploy HF-1 --env staging)" in flat
        assert app.screen.query_one("#confirm").disabled
        env.value = "staging"
        await settle(pilot)
        assert "staging: runs 1.4.1 now → 1.4.2" in screen_text(app)
        assert "deploy-staging.sh" in screen_text(app)
        await pilot.click("#confirm")
        assert await wait_for(pilot, lambda: _name(app) == "DeployScreen")
        # lines arrive while it runs
        assert await wait_for(pilot, lambda: "rolling pod" in screen_text(app), timeout=15)
        assert await wait_for(pilot, lambda: "succeeded" in screen_text(app), timeout=20)
        assert "staging now runs 1.4.2" in screen_text(app)
        await pilot.press("v")
        assert await wait_for(pilot, lambda: _name(app) == "VerifyModal")
        await pilot.click("#run")
        assert await wait_for(pilot, lambda: _name(app) == "DeployScreen" and
                              "verify" in screen_text(app) and
                              "health check passed" in screen_text(app), timeout=20)
        # verified on staging only: the hotfix itself is verified once production is
        shown = cli("show", "HF-1", "--json").json()
        assert shown["state"] == "deployed"
        assert {e["env"]: e["state"] for e in shown["environments"]} == {"staging": "passed"}
        # back on the hotfix: production is next, and preselected
        await pilot.press("escape", "escape")
        assert await wait_for(pilot, lambda: _name(app) == "HotfixScreen"
                              and "staging verified" in screen_text(app))
        await pilot.press("d")
        assert await wait_for(pilot, lambda: _name(app) == "DeployModal")
        assert app.screen.query_one("#env", Select).value == "production"
        assert not app.screen.query_one("#confirm").disabled
        await pilot.click("#confirm")
        assert await wait_for(pilot, lambda: _name(app) == "DeployScreen"
                              and "succeeded" in screen_text(app), timeout=30)
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: _name(app) == "HotfixScreen"
                              and "production verify pending" in screen_text(app))
        # `v` on the hotfix verifies where verification is awaited: production
        await pilot.press("v")
        assert await wait_for(pilot, lambda: _name(app) == "VerifyModal")
        assert "Verify HF-1 on production" in screen_text(app)
        assert "Checkout error rate back to baseline" in screen_text(app)
    assert cli("show", "HF-1", "--json").json()["state"] == "deployed"


async def test_rollback_through_the_modal(svc, monkeypatch):
    approved_hotfix(svc)
    assert svc.cli("deploy", "HF-1", "--env", "production").code == 0
    ctx = make_ctx(svc.path, "carol", monkeypatch)
    app = HotfixApp(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        assert await wait_for(pilot, lambda: _name(app) == "TypedConfirmModal")
        text = screen_text(app)
        assert "now running   1.4.2" in text and "goes back to  1.4.1" in text
        assert "local-symlink" in text
        assert app.focused.id == "typed"  # it asks for input: typing goes there at once
        app.screen.query_one("#typed", Input).value = "prod"
        app.screen.query_one("#reason", Input).value = "error rate up"
        await pilot.click("#confirm")
        await settle(pilot)
        assert "refused: type 'production' exactly" in screen_text(app)
        assert _name(app) == "TypedConfirmModal"
        app.screen.query_one("#typed", Input).value = "production"
        await pilot.click("#confirm")
        assert await wait_for(pilot, lambda: _name(app) == "DeployScreen")
        assert await wait_for(pilot, lambda: "succeeded" in screen_text(app), timeout=20)
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: "LOCKED by carol" in screen_text(app))
        assert "error rate up" in screen_text(app)
    status = {s["env"]: s for s in svc.cli("status", "--json").items()}["production"]
    assert status["locked"] and status["version"] == "1.4.1"
    assert _state(svc) == "rolled_back"


async def test_cancel_a_running_deploy(svc, monkeypatch):
    approved_hotfix(svc)
    d = svc.cli("deploy", "HF-1", "--env", "slow", "--detach", "--json").json()
    ctx = make_ctx(svc.path, "alice", monkeypatch)
    from hotfix_tui.tui.screens.deploy import DeployScreen

    app = HotfixApp(ctx, start_screen=DeployScreen(d["key"]))
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: "starting" in screen_text(app), timeout=10)
        await pilot.press("c")
        assert await wait_for(pilot, lambda: _name(app) == "ConfirmModal")
        assert "SIGTERM" in screen_text(app)
        await pilot.press("tab", "enter")
        assert await wait_for(pilot, lambda: "cancelled" in screen_text(app), timeout=15)
    assert svc.cli("deploys", "--json").items()[0]["status"] == "cancelled"


async def test_refused_actions_say_why(svc, monkeypatch):
    assert svc.cli("start", "--incident", "INC-1", "--title", "Draft").code == 0
    ctx = make_ctx(svc.path, "alice", monkeypatch)
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    app = HotfixApp(ctx, start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert any("HF-1 is not approved (draft)" in str(n.message)
                   for n in app._notifications)
        await pilot.press("v")
        await settle(pilot)
        assert any("deploy it first" in str(n.message) for n in app._notifications)
        assert _name(app) == "HotfixScreen"
    assert svc.cli("deploys", "--json").items() == []


async def test_an_interrupted_deploy_shows_as_interrupted(svc, monkeypatch):
    approved_hotfix(svc)
    d = svc.cli("deploy", "HF-1", "--env", "slow", "--detach", "--json").json()
    pid, pgid = runner_ids(svc)
    os.kill(pid, signal.SIGKILL)
    ctx = make_ctx(svc.path, "alice", monkeypatch)
    from hotfix_tui.tui.screens.deploy import DeployScreen

    app = HotfixApp(ctx, start_screen=DeployScreen(d["key"]))
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            assert await wait_for(pilot, lambda: "interrupted" in screen_text(app), timeout=15)
            assert "outcome unknown" in screen_text(app)
    finally:
        os.killpg(pgid, signal.SIGKILL)


async def test_cancel_stops_what_an_interrupted_run_left_running(svc, monkeypatch):
    """The runner died, its command did not: the pane offers Cancel (the service allows
    it, and its refusals of other runs say `hotfix cancel D-n`), and Cancel stops it."""
    from hotfix_tui.deploy.procgroup import group_members
    from hotfix_tui.tui.screens.deploy import DeployScreen

    approved_hotfix(svc)
    d = svc.cli("deploy", "HF-1", "--env", "slow", "--detach", "--json").json()
    pid, pgid = runner_ids(svc)
    try:
        orphan_the_run(svc, pid)
        assert group_members(pgid), "the command outlives its runner"
        ctx = make_ctx(svc.path, "alice", monkeypatch)
        app = HotfixApp(ctx, start_screen=DeployScreen(d["key"]))
        async with app.run_test(size=(100, 30)) as pilot:
            assert await wait_for(pilot, lambda: "interrupted" in screen_text(app), timeout=15)
            screen = app.screen
            assert screen.why_not("cancel_run") is None
            assert screen.check_action("cancel_run", ()) is True
            await pilot.press("c")
            assert await wait_for(pilot, lambda: _name(app) == "ConfirmModal")
            assert "its command is not" in screen_text(app)
            await pilot.press("tab", "enter")
            assert await wait_for(pilot, lambda: group_members(pgid) == [], timeout=15)
            assert await wait_for(pilot, lambda: screen.why_not("cancel_run") is not None)
            assert screen.why_not("cancel_run") == (f"{d['key']} is interrupted and nothing "
                                                    "of it is left running; nothing to cancel")
        actions = [e["action"] for e in svc.cli("timeline", "INC-1", "--json").items()]
        assert "deploy.orphan_stopped" in actions
        assert svc.cli("deploy", "HF-1", "--env", "slow", "--detach").code == 0
    finally:
        kill_every_command(svc)


async def test_history_finds_a_hotfix_by_a_word_from_its_why(svc, monkeypatch):
    approved_hotfix(svc)
    assert svc.cli("start", "--incident", "INC-1", "--title", "Other").code == 0
    assert svc.cli("edit", "HF-2", "--why", "The quantity multiplier was dropped").code == 0
    ctx = make_ctx(svc.path, "alice", monkeypatch)
    from hotfix_tui.tui.screens.history import HistoryScreen

    app = HotfixApp(ctx, readonly=True, start_screen=HistoryScreen())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "HF-1" in screen_text(app) and "HF-2" in screen_text(app)
        await pilot.press("slash")
        for ch in "multipl":
            await pilot.press(ch)
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: "HF-1" not in screen_text(app))
        assert "HF-2" in screen_text(app) and "1-1 of 1" in screen_text(app)


async def test_a_flood_of_200000_lines(svc, monkeypatch):
    approved_hotfix(svc)
    d = svc.cli("deploy", "HF-1", "--env", "flood", "--detach", "--json").json()
    ctx = make_ctx(svc.path, "alice", monkeypatch)
    from hotfix_tui.tui.screens.deploy import DeployScreen

    app = HotfixApp(ctx, start_screen=DeployScreen(d["key"]))
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: "flood line" in screen_text(app), timeout=20)
        assert await wait_for(pilot, lambda: "succeeded" in screen_text(app), timeout=90)
        await settle(pilot)
        total = svc.cli("deploys", "--json").items()[0]["line_count"]
        conn = sqlite3.connect(svc.path / ".git" / "hotfix" / "hotfix.db")
        out_lines = conn.execute("SELECT count(*) FROM deploy_lines WHERE deploy_id = 1 AND "
                                 "stream = 'out'").fetchone()[0]
        stored = conn.execute("SELECT count(*) FROM deploy_lines WHERE deploy_id = 1"
                              ).fetchone()[0]
        conn.close()
        assert out_lines == 200_000 and stored == total  # every line, none lost
        log = app.screen.query_one(LogView)
        assert log.follow and log.total == total
        assert f"{total} lines" in screen_text(app)
        assert await wait_for(pilot, lambda: "flood line 200000" in screen_text(app))


async def test_follow_pauses_on_scroll_up_and_resumes_with_end(svc, monkeypatch):
    approved_hotfix(svc)
    d = svc.cli("deploy", "HF-1", "--env", "flood", "--json").json()
    ctx = make_ctx(svc.path, "alice", monkeypatch)
    from hotfix_tui.tui.screens.deploy import DeployScreen

    app = HotfixApp(ctx, start_screen=DeployScreen(d["key"]))
    async with app.run_test(size=(100, 30)) as pilot:
        assert await wait_for(pilot, lambda: "succeeded" in screen_text(app), timeout=60)
        log = app.screen.query_one(LogView)
        assert log.follow
        await pilot.press("pageup")
        await settle(pilot)
        assert not log.follow and "paused" in screen_text(app)
        await pilot.press("G")
        await settle(pilot)
        assert log.follow and "following" in screen_text(app)
        assert "flood line 200000" in screen_text(app)
        await pilot.press("slash", *"line 12345", "enter")
        assert await wait_for(pilot, lambda: log.matches != [])
        assert "flood line 12345" in screen_text(app)
        assert not log.follow
        await pilot.press("n")
        await settle(pilot)
        assert log.current_match is not None and log.current_match > log.matches[0]


async def test_a_lost_run_the_first_read_records_is_news_however_late_the_watch_looks(
        svc, monkeypatch):
    """The console's first read records a run whose runner is gone as interrupted. Whether
    that became a toast depended on which thread came first: the change watch's first
    look, which marks where news begins, or the screen's read. Screens now read after
    that look. Here the watch is made slow to take its first look."""
    import time

    from hotfix_tui.services.changes import ChangeWatcher

    approved_hotfix(svc)
    d = svc.cli("deploy", "HF-1", "--env", "slow", "--detach", "--json").json()
    pid, pgid = runner_ids(svc)
    orphan_the_run(svc, pid)
    opened, first = ChangeWatcher._open, []

    def slow_first_look(watcher):
        if not first:
            first.append(True)
            time.sleep(1.0)
        return opened(watcher)

    monkeypatch.setattr(ChangeWatcher, "_open", slow_first_look)
    app = HotfixApp(make_ctx(svc.path, "alice", monkeypatch), watch_interval=0.05)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            assert await wait_for(pilot, lambda: any(
                d["key"] in str(n.message) and "interrupted" in str(n.message)
                for n in app._notifications), timeout=15), \
                [str(n.message) for n in app._notifications]
            assert first == [True]
    finally:
        os.killpg(pgid, signal.SIGKILL)
