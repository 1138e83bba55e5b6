"""The dashboard under other engineers' changes and a run flooding its log: it reads again
only when something it shows changed (an audit event), updates the rows it has in place,
coalesces a burst of changes into one more read, and closing a modal costs no read.
Real repository, real database, a real runner; reads are counted, never timed."""

from __future__ import annotations

import sys

from textual.widgets import DataTable

from hotfix_tui.clock import iso, utcnow
from hotfix_tui.core.models import Actor
from hotfix_tui.deploy.runner import request_cancel, spawn, wait_finished
from hotfix_tui.services.changes import Changes
from hotfix_tui.store import open_store
from hotfix_tui.store.runs import insert_run
from hotfix_tui.tui.app import HotfixApp
from hotfix_tui.tui.messages import DataChanged
from hotfix_tui.tui.screens.dashboard import DashboardScreen
from tests.tui.conftest import make_ctx, screen_text, settle, wait_for

FLOOD = "import itertools, sys; w=sys.stdout.write; [w(f'line {i}\\n') for i in itertools.count()]"


def _count_reads(screen) -> list[int]:
    """Count the screen's reads (the real fetch still runs)."""
    reads = [0]
    fetch = screen.fetch

    def counted():
        reads[0] += 1
        return fetch()

    screen.fetch = counted
    return reads


def _board(app) -> DataTable:
    return app.screen.query_one("#board", DataTable)


def _keys(table: DataTable) -> list[str]:
    return [row.key.value for row in table.ordered_rows]


async def test_a_run_flooding_its_log_does_not_make_the_dashboard_read_again(shop, monkeypatch,
                                                                            tmp_path):
    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    app = HotfixApp(ctx, watch_interval=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        reads = _count_reads(app.screen)
        store = open_store(ctx.db_path)
        with store.write():
            row = insert_run(store, env="staging", kind="deploy",
                             argv=[sys.executable, "-c", FLOOD], workdir=str(tmp_path),
                             started_by="alice", started_by_verified=True,
                             started_at=iso(utcnow()), max_log_bytes=0, timeout_s=120)
        store.close()
        deploy_id = int(row["id"])
        spawn(ctx.db_path, deploy_id)
        try:
            seen = app.changes_seen
            # the runner commits its lines many times; the watch sees them as changes
            assert await wait_for(pilot, lambda: app.changes_seen >= seen + 5, timeout=20)
            assert reads[0] == 0
        finally:
            store = open_store(ctx.db_path)
            request_cancel(store, deploy_id, Actor("alice", True), iso(utcnow()))
            store.close()
            wait_finished(ctx.db_path, deploy_id, timeout=60)


async def test_an_event_updates_the_rows_in_place(shop, monkeypatch):
    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    app = HotfixApp(ctx, watch_interval=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = _board(app)
        before = _keys(table)
        assert before == ["INC-1", "HF-1"]
        table.move_cursor(row=1)
        cleared = [0]
        clear = table.clear

        def counted_clear(*a, **kw):
            cleared[0] += 1
            return clear(*a, **kw)

        table.clear = counted_clear
        res = shop.cli("edit", "HF-1", "--title", "Fix totals for good")
        assert res.code == 0, res.err
        assert await wait_for(pilot, lambda: "Fix totals for good" in screen_text(app))
        assert cleared[0] == 0  # the cell changed; the table was not emptied and refilled
        assert _keys(table) == before
        assert table.cursor_row == 1


async def test_new_rows_still_show(shop, monkeypatch):
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    app = HotfixApp(ctx, watch_interval=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert _keys(_board(app)) == ["INC-1"]
        assert shop.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
        assert await wait_for(pilot, lambda: _keys(_board(app)) == ["INC-1", "HF-1"])


async def test_closing_help_reads_nothing_unless_something_changed_meanwhile(shop,
                                                                           monkeypatch):
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    app = HotfixApp(ctx, watch_interval=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dashboard = app.screen
        reads = _count_reads(dashboard)
        await pilot.press("question_mark")
        await settle(pilot)
        assert app.screen is not dashboard
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is dashboard
        assert reads[0] == 0
        # an engineer elsewhere opens an incident while help covers the dashboard
        await pilot.press("question_mark")
        await settle(pilot)
        seen = app.events_seen
        assert shop.cli("incident", "open", "--title", "Search is down", "--sev", "2").code == 0
        assert await wait_for(pilot, lambda: app.events_seen > seen)
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: "INC-2" in _keys(_board(app)))
        assert reads[0] == 1


async def test_a_burst_of_changes_costs_one_more_read(shop, monkeypatch):
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    app = HotfixApp(ctx, watch_interval=3600)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        reads = _count_reads(screen)
        event = object()  # anything: a DataChanged with an event in it
        for version in range(10):  # arrive together, before the first read answers
            screen.post_message(DataChanged(Changes(version, (event,))))
        await settle(pilot)
        assert 1 <= reads[0] <= 2, reads[0]
        assert "INC-1" in _keys(_board(app))


def test_the_watcher_looks_after_the_first_frame_and_misses_nothing_before(
        shop, monkeypatch):
    """The console's watcher notes what the database holds when the console starts, but
    looks for changes only once the first screen shows its data (its first frame goes
    first); a change committed in between is still news to it."""
    import threading
    import time

    from hotfix_tui import services
    from hotfix_tui.services.changes import ChangeWatcher
    from tests.helpers import wait_for as wait_until

    ctx = make_ctx(shop.path, "alice", monkeypatch)
    ready, stop, noted = threading.Event(), threading.Event(), threading.Event()
    seen: list[Changes] = []
    note_start = ChangeWatcher.note_start

    def noting(watcher) -> None:  # (the real one, then say it ran)
        note_start(watcher)
        noted.set()

    monkeypatch.setattr(ChangeWatcher, "note_start", noting)

    def watch() -> None:
        for changes in services.watch_changes(ctx, 0.05, stop.is_set, ready=ready.is_set,
                                              wait=60):
            seen.append(changes)

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        wait_until(noted.is_set, "the watcher to note the start")
        assert shop.cli("incident", "open", "--title", "Search is slow", "--sev", "2",
                        "--service", "search").code == 0
        time.sleep(0.3)  # (six polls' worth: none happens before the first frame)
        assert seen == []
        ready.set()
        wait_until(lambda: seen, "the first look")
        assert [e.incident for e in seen[0].events] == ["INC-2"]
    finally:
        stop.set()
        thread.join(10)
