"""P4: the history browser on the big database: time to first rows, and each search.

Through Pilot, in this process: the console starts on the dashboard; `h` opens the
history browser, timed from the key to the end of the first frame that shows its
rows (the browser is kept between visits: a re-open with nothing changed meanwhile
shows the rows it has, and that first frame is the one timed). Then each query is put
into the search box and `enter` pressed, timed from
the key to the end of the first frame showing that query's rows. Each is also timed to
the screen settled (every update the rows caused drawn: footer, scrollbar, the count).
The service call alone (history_page) is timed too, to tell the database from the
screen.
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
    """Patches HistoryScreen (class-wide, in this process only) to note the end of the
    first frame drawn after the rows of a given query were put in its table (`at`, a
    hook on the screen's compositor refresh, as P3k's), and when the screen had settled:
    its after-refresh callbacks ran, i.e. every update the rows caused was drawn
    (`settled`; until this round `at` was taken there)."""

    def __init__(self) -> None:
        from hotfix_tui.tui.screens.history import HistoryScreen

        self.cls = HistoryScreen
        self.original = HistoryScreen.show
        self.want: str | None = None
        self.at: float | None = None
        self.settled: float | None = None
        self.shown = False
        self.rows = 0
        marks = self

        def rows_in(screen, count: int) -> None:
            marks.rows, marks.shown = count, True
            screen.call_after_refresh(marks._settled)

        def show(screen, page) -> None:
            marks.original(screen, page)
            if marks.want is not None and screen.query_text == marks.want and not marks.shown:
                rows_in(screen, len(page.rows))

        HistoryScreen.show = show

        def resumed(screen) -> None:
            # the browser is kept between visits; with nothing changed meanwhile it shows
            # the rows it has without reading them again: the first frame shows them
            from textual.widgets import DataTable

            table = screen.query_one("#history", DataTable)
            if marks.want is not None and not marks.shown and table.row_count and \
                    screen.query_text == marks.want:
                rows_in(screen, table.row_count)

        HistoryScreen.on_screen_resume = resumed

        drawn = HistoryScreen._compositor_refresh  # (Screen's)

        def frame(screen) -> None:
            drawn(screen)
            if marks.shown and marks.at is None and screen.is_current:
                marks.at = time.perf_counter()

        HistoryScreen._compositor_refresh = frame

    def _settled(self) -> None:
        if self.settled is None:
            self.settled = time.perf_counter()

    def arm(self, query: str) -> None:
        self.want, self.at, self.settled, self.rows, self.shown = query, None, None, 0, False

    def restore(self) -> None:
        self.cls.show = self.original
        del self.cls.on_screen_resume
        del self.cls._compositor_refresh


async def _timed_press(pilot, key: str, marks: Marks, timeout: float = 30.0
                       ) -> tuple[float, float]:
    """(to the first frame with the rows, to the screen settled), in seconds."""
    started = time.perf_counter()
    press = asyncio.create_task(pilot.press(key))
    while (marks.at is None or marks.settled is None) and \
            time.perf_counter() - started < timeout:
        await asyncio.sleep(0.0005)
    if not press.done():
        press.cancel()  # only Pilot's own wait for idle widgets is left (see p3_keys)
    with contextlib.suppress(asyncio.CancelledError):
        await press
    if marks.at is None or marks.settled is None:
        raise RuntimeError(f"no rows for {marks.want!r} after {timeout}s")
    return marks.at - started, marks.settled - started


async def _drive(ctx, opens: int, qs: list[str], rounds: int) -> dict:
    from textual.widgets import Input

    from hotfix_tui.tui.app import HotfixApp
    from hotfix_tui.tui.screens.dashboard import DashboardScreen
    from hotfix_tui.tui.screens.history import HistoryScreen

    marks = Marks()
    app = HotfixApp(ctx)
    open_s: list[tuple[float, float]] = []
    search_s: dict[str, list[tuple[float, float]]] = {q: [] for q in qs}
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
    search_ms = {q: median([f for f, _ in v]) * 1000 for q, v in got["search_s"].items()}
    settled_ms = {q: median([s for _, s in v]) * 1000 for q, v in got["search_s"].items()}
    open_ms = [f * 1000 for f, _ in got["open_s"]]
    open_settled = [s * 1000 for _, s in got["open_s"]]
    return {
        "open_ms": median(open_ms), "open_max_ms": max(open_ms), "open_all_ms": open_ms,
        "open_settled_ms": open_settled,
        "search_ms": search_ms, "search_max_ms": max(search_ms.values()),
        "search_settled_ms": settled_ms,
        "search_all_ms": {q: [f * 1000 for f, _ in v] for q, v in got["search_s"].items()},
        "service_ms": service_ms, "rows": got["rows"],
    }
