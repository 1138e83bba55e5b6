"""A console runs for a whole incident: what it keeps in memory, and the garbage
collector's full passes that stop it (tui/memory.py; bench P3, P3k)."""

from __future__ import annotations

import gc

from textual._styles_cache import StylesCache

from hotfix_tui.tui.app import HotfixApp
from tests.tui.conftest import make_ctx, settle


def _alive(cls) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, cls))


async def test_closed_dialogs_leave_nothing_drawn_behind(shop, monkeypatch):
    """Each help opened and closed left 8 widgets' drawn lines alive in Textual's styles
    cache (Textualize/textual#6665): 25 000 objects every ten, up to a thousand widgets."""
    app = HotfixApp(make_ctx(shop.path, "alice", monkeypatch), watch_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dashboard = app.screen
        before = _alive(StylesCache)
        for _ in range(20):
            await pilot.press("question_mark")
            await settle(pilot, rounds=1)
            assert app.screen is not dashboard
            await pilot.press("escape")
            await settle(pilot, rounds=1)
            assert app.screen is dashboard
        assert _alive(StylesCache) - before <= 8
        assert StylesCache.get_inner_outer.cache_info().currsize < 20


async def test_the_start_up_is_left_out_of_collections_while_the_console_runs(shop,
                                                                            monkeypatch):
    app = HotfixApp(make_ctx(shop.path, "alice", monkeypatch), watch_interval=3600)
    assert gc.get_freeze_count() == 0
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.data is not None
        assert gc.get_freeze_count() > 10_000  # modules, classes, styles, the dashboard
    assert gc.get_freeze_count() == 0  # closed: ordinary garbage again
