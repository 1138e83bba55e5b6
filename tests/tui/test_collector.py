"""The console runs Python's cyclic garbage collector between keys (tui/collector.py):
not automatically in the middle of drawing a screen, never while a key is being handled
(unless garbage piles up past a bound), and the process gets its collector back when the
console closes."""

from __future__ import annotations

import gc

from hotfix_tui.tui import collector
from hotfix_tui.tui.app import HotfixApp
from tests.tui.conftest import make_ctx, settle, wait_for


def _cycles(n: int) -> None:
    """n objects that only the cyclic collector can free."""
    for _ in range(n):
        a: list = []
        a.append(a)


async def test_garbage_is_collected_between_keys_only(shop, monkeypatch):
    assert gc.isenabled()
    app = HotfixApp(make_ctx(shop.path, "alice", monkeypatch))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        watch = app.collector
        assert watch.running and not gc.isenabled()  # no collection in the middle of a frame
        assert gc.get_freeze_count() > 0  # start-up's objects are out of its view
        # a key being handled: garbage waits
        app.typeahead.in_flight = True
        before = watch.collections
        _cycles(collector.YOUNG * 2)
        watch.tick()
        assert watch.collections == before and gc.get_count()[0] >= collector.YOUNG
        # the console is idle again: the next look collects
        app.typeahead.in_flight = False
        assert await wait_for(pilot, lambda: watch.collections > before)
        collected = watch.collections
        # a console busy without a pause still collects once enough has piled up
        app.typeahead.in_flight = True
        monkeypatch.setattr(collector, "FORCE_AFTER", collector.YOUNG)
        _cycles(collector.YOUNG * 2)
        watch.tick()
        assert watch.collections == collected + 1
        app.typeahead.in_flight = False
    assert gc.isenabled() and gc.get_freeze_count() == 0  # the process's collector is back
