"""The console with a shared history (hotfix sync): a conflict between bastions on the
dashboard's environment strip, and [sync] auto fetching on its timer."""

from __future__ import annotations

from pathlib import Path

from hotfix_tui.tui.app import HotfixApp
from tests.integration.sync_helpers import locked_apart, two_bastions
from tests.tui.conftest import make_ctx, screen_text, settle, wait_for


async def test_the_dashboard_shows_a_lock_made_on_two_bastions_apart(tmp_path: Path,
                                                                    monkeypatch):
    t = two_bastions(tmp_path)
    locked_apart(t)
    app = HotfixApp(make_ctx(t.a.path, "alice", monkeypatch))
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert await wait_for(pilot, lambda: "CONFLICT: a and b apart" in screen_text(app))


async def test_with_sync_auto_the_console_fetches_on_its_timer(tmp_path: Path, monkeypatch):
    t = two_bastions(tmp_path, extra_config='\n[sync]\nremote = "origin"\nauto = true\n'
                     'interval_s = 5\n')
    t.sync(t.a, "--site", "a")
    t.sync(t.b, "--site", "b")
    app = HotfixApp(make_ctx(t.a.path, "alice", monkeypatch))
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert "Search index corrupt" not in screen_text(app)
        t.b.ok("incident", "open", "--title", "Search index corrupt", "--sev", "1",
               actor="bob")
        t.sync(t.b)
        assert await wait_for(pilot, lambda: "Search index corrupt" in screen_text(app),
                              timeout=30)
