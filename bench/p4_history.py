"""P4: the history browser on the big database: time to first rows, and each search.

Through Pilot, in this process: the console starts on the dashboard; `h` opens the
history browser, timed from the key to the end of the first frame that shows its
rows (the browser is kept between visits: a re-open with nothing changed meanwhile
shows the rows it has, and that first frame is the one timed). Then each query is put
into the search box and `enter` pressed, timed from
the key to the end of the first frame showing that query's rows. The service call
alone (history_page) is timed too, to tell the database from the screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import SIZE, median

from hotfix_tui import services


def queries(n_incidents: int) -> list[str]:
    recent = (datetime.now(UTC) - timedelta(days=90)).date().isoformat()
    return [
        "checkout",                      # in most hotfixes
        "timeout",
        "gift card",
        "deadlock",
        "klarna",                        # rare
        "kafka timeout",
        "JIRA",
        "rounding error checkout",
        "state:deployed payments",
        "author:priya refund",
        "env:production stale cache",
        f"inc:INC-{max(1, n_incidents - 3)} fix",
        f"after:{recent} coupon",
        "overflow",
        "pdf renderer",
        "webho",                         # a prefix
        "zzyzx",                         # matches nothing
        "ledger deadlock postgres",
        "retry storm",
        "state:finished login",
    ]


class Marks:
    """Patches HistoryScreen.show (class-wide, in this process only) to note when the
    frame after rows for a given query has been drawn."""

    def __init__(self) -> None:
        from hotfix_tui.tui.screens.history import HistoryScreen

        self.cls = HistoryScreen
        self.original = HistoryScreen.show
        self.want: str | None = None
        self.at: float | None = None
        self.rows = 0
        marks = self

        def show(screen, page) -> None:
            marks.original(screen, page)
            if marks.want is not None and screen.query_text == marks.want and marks.at is None:
                marks.rows = len(page.rows)
                screen.call_after_refresh(marks._drawn)

        HistoryScreen.show = show

        def resumed(screen) -> None:
            # the browser is kept between visits; with nothing changed meanwhile it shows
            # the rows it has without reading them again: the first frame shows them
            from textual.widgets import DataTable

            table = screen.query_one("#history", DataTable)
            if marks.want is not None and marks.at is None and table.row_count and \
                    screen.query_text == marks.want:
                marks.rows = table.row_count
                screen.call_after_refresh(marks._drawn)

        HistoryScreen.on_screen_resume = resumed

    def _drawn(self) -> None:
        if self.at is None:
            self.at = time.perf_counter()

    def arm(self, query: str) -> None:
        self.want, self.at, self.rows = query, None, 0

    def restore(self) -> None:
        self.cls.show = self.original
        del self.cls.on_screen_resume


async def _timed_press(pilot, key: str, marks: Marks, timeout: float = 30.0) -> float:
    started = time.perf_counter()
    press = asyncio.create_task(pilot.press(key))
    while marks.at is None and time.perf_counter() - started < timeout:
        await asyncio.sleep(0.0005)
    if not press.done():
        press.cancel()  # only Pilot's own wait for idle widgets is left (see p3_keys)
    with contextlib.suppress(asyncio.CancelledError):
        await press
    if marks.at is None:
        raise RuntimeError(f"no rows for {marks.want!r} after {timeout}s")
    return marks.at - started


async def _drive(ctx, opens: int, qs: list[str], rounds: int) -> dict:
    from textual.widgets import Input

    from hotfix_tui.tui.app import HotfixApp
    from hotfix_tui.tui.screens.dashboard import DashboardScreen
    from hotfix_tui.tui.screens.history import HistoryScreen

    marks = Marks()
    app = HotfixApp(ctx)
    open_s: list[float] = []
    search_s: dict[str, list[float]] = {q: [] for q in qs}
    hits: dict[str, int] = {}
    try:
        async with app.run_test(size=SIZE) as pilot:
            deadline = time.monotonic() + 60
            while not (isinstance(app.screen, DashboardScreen) and app.screen.data is not None):
                if time.monotonic() > deadline:
                    raise RuntimeError("the dashboard never loaded")
                await pilot.pause(0.02)
            await pilot.pause(0.2)
            for i in range(opens):
                marks.arm("")
                open_s.append(await _timed_press(pilot, "h", marks))
                if i < opens - 1:
                    await pilot.press("escape")
                    while not isinstance(app.screen, DashboardScreen):
                        await pilot.pause(0.01)
            screen = app.screen
            assert isinstance(screen, HistoryScreen)
            box = screen.query_one("#query", Input)
            for _ in range(rounds):
                for q in qs:
                    screen.set_focus(box)
                    box.value = q
                    await pilot.pause()
                    marks.arm(q)
                    search_s[q].append(await _timed_press(pilot, "enter", marks))
                    hits[q] = marks.rows
    finally:
        marks.restore()
    return {"open_s": open_s, "search_s": search_s, "rows": hits}


def measure(repo: Path, db: Path, n_incidents: int, opens: int, n_queries: int,
            rounds: int) -> dict:
    ctx = services.open_context(repo=repo, db=db)
    qs = queries(n_incidents)[:n_queries]
    service_ms = {}
    for q in qs:
        times = []
        for _ in range(3):
            t = time.perf_counter()
            page = services.history_page(ctx, q)
            times.append((time.perf_counter() - t) * 1000)
        service_ms[q] = {"ms": median(times), "total": page.total}
    got = asyncio.run(_drive(ctx, opens, qs, rounds))
    search_ms = {q: median(v) * 1000 for q, v in got["search_s"].items()}
    open_ms = [x * 1000 for x in got["open_s"]]
    return {
        "open_ms": median(open_ms), "open_max_ms": max(open_ms), "open_all_ms": open_ms,
        "search_ms": search_ms, "search_max_ms": max(search_ms.values()),
        "search_all_ms": {q: [x * 1000 for x in v] for q, v in got["search_s"].items()},
        "service_ms": service_ms, "rows": got["rows"],
    }
