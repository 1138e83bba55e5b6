"""The history browser's search: `enter` shows the results and puts the focus on them in
one go (never a frame of the old rows focused first), and keys typed meanwhile reach the
results, not the search box."""

from __future__ import annotations

from textual.widgets import Input

from hotfix_tui.tui.app import HotfixApp
from hotfix_tui.tui.screens.dashboard import DashboardScreen
from hotfix_tui.tui.screens.history import HistoryScreen
from hotfix_tui.tui.widgets.fittable import FitTable
from tests.tui.conftest import make_ctx, screen_text, settle
from tests.tui.test_keyboard import burst, until

TITLES = ("Fix rounding", "Refund twice", "Refund cache stale", "Login loop")


def _browser(shop, monkeypatch) -> HotfixApp:
    """A read-only console on the history browser over four hotfixes."""
    for title in TITLES:
        assert shop.cli("start", "--incident", "INC-1", "--title", title).code == 0
    return HotfixApp(make_ctx(shop.path, "alice", monkeypatch), readonly=True,
                     start_screen=HistoryScreen())


async def test_a_search_focuses_the_results_once_they_are_shown(shop, monkeypatch):
    app = _browser(shop, monkeypatch)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#history", FitTable)
        assert table.row_count == len(TITLES)
        focus_moves: list[tuple[str, list[str]]] = []
        screen.watch(screen, "focused", lambda widget: focus_moves.append(
            (type(widget).__name__, [r.key.value for r in table.ordered_rows])), init=False)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        for ch in "refund":
            await pilot.press(ch)
        await pilot.press("enter")
        assert await until(pilot, lambda: app.focused is table)
        # the table took the focus holding the results, not the rows it had before
        assert focus_moves[-1] == ("FitTable", ["HF-3", "HF-2"])
        assert [m for m in focus_moves if m[0] == "FitTable"] == [focus_moves[-1]]
        assert "1-2 of 2" in screen_text(app)


async def test_keys_typed_after_enter_go_to_the_results(shop, monkeypatch):
    app = _browser(shop, monkeypatch)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#history", FitTable)
        box = app.screen.query_one("#query", Input)
        burst(app, "/", "refund", "enter", "j")  # faster than the search answers
        assert await until(pilot, lambda: table.row_count == 2 and table.cursor_row == 1)
        assert box.value == "refund" and app.focused is table  # the j moved the cursor
        assert table.current_key() == "HF-2"


async def _open_history(shop, monkeypatch, changed: bool) -> tuple[list[str], list[int]]:
    """`h` on the dashboard (after a change meanwhile or not): the browser's own reads,
    and how many rows its table had in its first frame."""
    reads: list[str] = []
    first_frames: list[int] = []
    fetch, drawn = HistoryScreen.fetch, HistoryScreen._compositor_refresh

    def frame(screen) -> None:
        drawn(screen)
        if screen.is_current and not first_frames:
            first_frames.append(screen.query_one("#history", FitTable).row_count)

    app = HotfixApp(make_ctx(shop.path, "alice", monkeypatch), readonly=True)
    async with app.run_test(size=(100, 30)) as pilot:
        # built off screen once the dashboard shows its data: `h` only switches to it
        assert await until(pilot, lambda: app.is_screen_installed("history")
                           and app.get_screen("history").is_mounted)
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        if changed:
            app.changes_seen += 1
        HistoryScreen.fetch = lambda s: reads.append(s.query_text) or fetch(s)
        HistoryScreen._compositor_refresh = frame
        try:
            await pilot.press("h")
            assert await until(pilot, lambda: isinstance(app.screen, HistoryScreen)
                               and "HF-4" in screen_text(app))
        finally:
            HistoryScreen.fetch = fetch
            del HistoryScreen._compositor_refresh
    return reads, first_frames


async def test_the_browser_opens_on_rows_read_before_it_opened(shop, monkeypatch):
    """Once the dashboard shows its data the browser is built off screen on its first
    page (read in a thread); `h` then shows those rows in its first frame with no read
    of its own if nothing changed meanwhile, and reads them again (as any re-open) if
    something did."""
    for title in TITLES:
        assert shop.cli("start", "--incident", "INC-1", "--title", title).code == 0
    assert await _open_history(shop, monkeypatch, changed=False) == ([], [len(TITLES)])
    assert await _open_history(shop, monkeypatch, changed=True) == ([""], [len(TITLES)])


def _footer(app) -> str:
    lines = [ln for ln in screen_text(app).splitlines() if ln.strip()]
    return lines[-1]


async def test_the_footer_follows_the_focus_between_the_search_box_and_the_results(
        shop, monkeypatch):
    """In the search box the printable keys type (`e`, `?`, `[`, `]` leave the footer);
    on the results they come back."""
    app = _browser(shop, monkeypatch)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#history", FitTable)
        assert app.focused is table
        on_results = _footer(app)
        assert "Export" in on_results and "Help" in on_results and "Back" in on_results
        await pilot.press("slash")
        await settle(pilot)
        assert isinstance(app.focused, Input)
        in_box = _footer(app)
        assert "Export" not in in_box and "Help" not in in_box and "Back" in in_box
        screen.set_focus(table)
        await settle(pilot)
        assert _footer(app) == on_results
