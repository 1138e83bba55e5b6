"""What the console shows and where: keys never cut, a read-only console without write
affordances, toasts that coalesce and cover nothing, the deploy pane's progress and
wrapping, a row in full, records exported outside the checkout, no stale flash."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest
from textual.widgets import Button, DataTable, Footer

from hotfix_tui import services
from hotfix_tui.tui.app import HotfixApp
from hotfix_tui.tui.screens.dashboard import DashboardScreen
from hotfix_tui.tui.screens.deploy import DeployScreen
from hotfix_tui.tui.screens.history import HistoryScreen
from hotfix_tui.tui.screens.hotfix import HotfixScreen
from hotfix_tui.tui.screens.review import ReviewScreen
from hotfix_tui.tui.toasts import Toast, coalesce, make_toast
from hotfix_tui.tui.widgets.help import HelpScreen
from hotfix_tui.tui.widgets.logview import LogView
from tests.integration.deploy_helpers import approved_hotfix, deploy_repo, kill_every_command
from tests.tui.conftest import make_ctx, screen_text, settle
from tests.tui.test_keyboard import burst, until


def _db(repo) -> sqlite3.Connection:
    conn = sqlite3.connect(repo / ".git" / "hotfix" / "hotfix.db")
    conn.row_factory = sqlite3.Row
    return conn


def _copy_row(repo, table: str, source_id: int, new_id: int, prefix: str, **changes) -> None:
    """A copy of a row under a far id, so the next one created is numbered after it."""
    conn = _db(repo)
    row = dict(conn.execute(f"SELECT * FROM {table} WHERE id = ?", (source_id,)).fetchone())
    row.update(id=new_id, key=f"{prefix}-{new_id}", **changes)
    cols = ", ".join(row)
    conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})",
                 tuple(row.values()))
    conn.commit()
    conn.close()


@pytest.fixture
def big_keys(shop):
    """INC-10000 open with HF-100000 in it: five and six digits."""
    _copy_row(shop.path, "incidents", 1, 9999, "INC", status="resolved")
    assert shop.cli("incident", "open", "--title", "Payments time out for every card",
                    "--sev", "1", "--service", "payments").code == 0
    assert shop.cli("start", "--incident", "INC-1", "--title", "Old").code == 0
    assert shop.cli("abandon", "HF-1", "--reason", "superseded").code == 0
    _copy_row(shop.path, "hotfixes", 1, 99999, "HF", branch="hotfix/old-copy")
    res = shop.cli("start", "--incident", "INC-10000", "--title",
                   "Retry card authorisation once on a gateway timeout")
    assert res.code == 0, res.err
    assert shop.cli("show", "HF-100000", "--json").code == 0
    return shop


def _cells(table: DataTable, column: str) -> list[str]:
    return [str(table.get_cell_at((r, table.get_column_index(column))))
            for r in range(table.row_count)]


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_keys_are_whole_and_the_title_takes_the_rest(big_keys, monkeypatch, size):
    app = HotfixApp(make_ctx(big_keys.path, "alice", monkeypatch))
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert "INC-10000" in shown and "HF-100000" in shown
        board = app.screen.query_one("#board", DataTable)
        keys = board.ordered_columns[board.get_column_index("key")]
        assert keys.width >= len("HF-100000")
        title = board.ordered_columns[board.get_column_index("title")]
        assert title.width >= 16  # not 9 (80x24) or 3 (60x20) characters
        assert "Payments time out" in shown
    app = HotfixApp(make_ctx(big_keys.path, "carol", monkeypatch), readonly=True,
                    start_screen=HistoryScreen())
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert "HF-100000" in screen_text(app) and "HF-99999" in screen_text(app)
        table = app.screen.query_one("#history", DataTable)
        assert "HF-100000" in _cells(table, "key")


async def test_a_row_whose_text_is_cut_can_be_read_in_full(big_keys, monkeypatch):
    app = HotfixApp(make_ctx(big_keys.path, "alice", monkeypatch))
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        board = app.screen.query_one("#board", DataTable)
        board.move_cursor(row=board.get_row_index("HF-100000"))
        title = "Retry card authorisation once on a gateway timeout"
        assert title not in screen_text(app)  # cut, with an ellipsis
        burst(app, "i")
        assert await until(pilot, lambda: type(app.screen).__name__ == "RowModal")
        text = app.screen.query_one("#row-text").render().plain  # shown wrapped
        assert title in text and "alice" in text  # who: a column 60 columns have no room for
        burst(app, "escape")
        assert await until(pilot, lambda: isinstance(app.screen, DashboardScreen))


# ---- read-only ---------------------------------------------------------------------------

@pytest.fixture
def deployed(tmp_path):
    svc = deploy_repo(tmp_path)
    approved_hotfix(svc)
    assert svc.cli("deploy", "HF-1", "--env", "production").code == 0
    yield svc
    kill_every_command(svc)


@pytest.mark.parametrize("make", [DashboardScreen, lambda: HotfixScreen("HF-1"),
                                  lambda: DeployScreen("D-1"), HistoryScreen, ReviewScreen],
                         ids=["dashboard", "hotfix", "deploy", "history", "review"])
async def test_a_readonly_console_offers_no_change(deployed, monkeypatch, make):
    app = HotfixApp(make_ctx(deployed.path, "bob", monkeypatch), readonly=True,
                    start_screen=make())
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        changing = screen.CHANGING
        footer = {b.binding.action for b in screen.active_bindings.values()}
        assert not footer & changing, footer & changing
        assert not list(screen.query(Button)), "a button that would change something"
        text = screen_text(app)
        for word in ("Submit", "Approve", "Cancel run", "Unlock", "hotfix worktree"):
            assert word not in text, word
        app.push_screen(HelpScreen(screen))
        await settle(pilot)
        rows = app.screen.rows()
        descriptions = {b.description for b in type(screen).BINDINGS
                        if b.action in changing}
        assert not {r[1] for r in rows} & descriptions
        assert "Help" in {r[1] for r in rows}


# ---- toasts --------------------------------------------------------------------------------

def test_news_of_one_kind_becomes_one_toast_with_a_count():
    shown = [make_toast("ticked 1: Root cause", "checklist", plural="{n} items ticked")]
    replaced, toast = coalesce(shown, make_toast("ticked 2: Scope", "checklist",
                                                 plural="{n} items ticked"))
    assert replaced == shown and toast.message == "checklist: 2 items ticked"
    replaced, toast = coalesce([toast], make_toast("ticked 3: Plan", "checklist",
                                                   plural="{n} items ticked"))
    assert toast.message == "checklist: 3 items ticked" and isinstance(toast, Toast)
    # the very same news again: counted
    a = make_toast("D-1 succeeded")
    _, again = coalesce([a], make_toast("D-1 succeeded"))
    assert again.message == "D-1 succeeded (×2)"
    # different news stays apart, but never more than three at once, errors last to go
    old = [make_toast("first", severity="error"), make_toast("second"), make_toast("third")]
    replaced, _ = coalesce(old, make_toast("fourth"))
    assert [t.message for t in replaced] == ["second"]


async def test_ticks_make_one_toast_that_covers_nothing(shop, monkeypatch):
    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    app = HotfixApp(make_ctx(shop.path, "alice", monkeypatch),
                    start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        burst(app, "2", "space", "j", "space")
        assert await until(pilot, lambda: any(
            n.message.endswith("2 items ticked") for n in app._notifications))
        await settle(pilot)
        toasts = list(app.screen.query("Toast"))
        assert [str(t.render()) for t in toasts] == ["checklist: 2 items ticked"]
        checklist = app.screen.query_one("#checklist").region
        reasons = app.screen.query_one("#reasons").region
        for toast in toasts:
            assert not toast.region.overlaps(checklist)
            assert not toast.region.overlaps(reasons)
            assert toast.region.bottom <= app.screen.query_one(Footer).region.y


# ---- the deploy pane ----------------------------------------------------------------------

async def test_the_deploy_pane_wraps_long_lines_and_estimates_from_earlier_runs(tmp_path,
                                                                             monkeypatch):
    svc = deploy_repo(tmp_path, files={
        "ops/long.sh": "#!/bin/sh\necho start\necho \"error: $(printf 'x%.0s' $(seq 1 150)) "
                       "THE END\"\n"},
        extra_config='[environments.long]\ndeploy = ["./ops/long.sh"]\n')
    try:
        approved_hotfix(svc)
        ctx = make_ctx(svc.path, "alice", monkeypatch)
        first = services.deploy(ctx, "HF-1", "long")
        services.wait_run(ctx, first.key)
        second = services.deploy(ctx, "HF-1", "long")
        services.wait_run(ctx, second.key)
        app = HotfixApp(make_ctx(svc.path, "alice", monkeypatch),
                        start_screen=DeployScreen(second.key))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert await until(pilot, lambda: "THE END" not in screen_text(app)
                                  and "error: xxx" in screen_text(app))
            assert "usually 00:0" in screen_text(app)  # the first run's duration
            burst(app, "w")
            assert await until(pilot, lambda: "THE END" in screen_text(app))
            assert app.screen.query_one(LogView).wrap
            burst(app, "w")
            assert await until(pilot, lambda: "THE END" not in screen_text(app))
        app = HotfixApp(make_ctx(svc.path, "alice", monkeypatch),
                        start_screen=DeployScreen(first.key))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert "no other successful deploy to long" not in screen_text(app)
    finally:
        kill_every_command(svc)


async def test_a_run_without_history_has_no_estimate(deployed, monkeypatch):
    app = HotfixApp(make_ctx(deployed.path, "alice", monkeypatch),
                    start_screen=DeployScreen("D-1"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "no other successful deploy to production to compare" in screen_text(app)
        assert app.screen.query_one("#rate").data  # the output rate, second by second


# ---- export -------------------------------------------------------------------------------

async def test_the_console_exports_outside_the_checkout(deployed, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = HotfixApp(make_ctx(deployed.path, "carol", monkeypatch), readonly=True,
                    start_screen=HistoryScreen())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        burst(app, "e")
        assert await until(pilot, lambda: type(app.screen).__name__ == "PromptModal")
        default = tmp_path / "data" / "hotfix-tui" / "records" / deployed.path.name / \
            "HF-1-record.md"
        assert app.focused.value == str(default)
        burst(app, "enter")
        assert await until(pilot, lambda: default.is_file())
    assert default.read_text().startswith("# HF-1: Fix totals")
    status = subprocess.run(["git", "status", "--porcelain"], cwd=deployed.path,
                            capture_output=True, text=True, check=True).stdout
    assert "record" not in status, status


# ---- no stale flash ---------------------------------------------------------------------------

async def test_after_a_pick_the_hotfix_appears_with_its_new_head(shop, monkeypatch):
    from hotfix_tui.tui.screens.start import PickCommitsScreen

    seen = []

    class Watched(HotfixScreen):
        def on_screen_resume(self) -> None:  # what it shows the moment it is back on top
            seen.append(self.detail.scope.commits if self.detail else None)

    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    app = HotfixApp(make_ctx(shop.path, "alice", monkeypatch), start_screen=Watched("HF-1"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hotfix = app.screen
        assert hotfix.detail.scope.commits == 0
        seen.clear()
        app.push_screen(PickCommitsScreen("HF-1"))
        await settle(pilot)
        burst(app, "/", "Fix checkout", "enter", "space", "p")
        assert await until(pilot, lambda: app.screen is hotfix and seen)
        assert seen == [1]


async def test_a_long_table_draws_its_first_rows_then_the_rest_keeping_the_cursor():
    """A dashboard of a year's open incidents draws its first screen like a short one:
    FIRST_ROWS rows before the frame, the rest right after it; the row the cursor was
    on stays selected even when it comes with the rest, and rows set again meanwhile
    are never mixed with the earlier ones."""
    from textual.app import App

    from hotfix_tui.tui.widgets.columns import Column
    from hotfix_tui.tui.widgets.fittable import FIRST_ROWS, FitTable

    rows = [(f"K{i}", (f"K{i}", f"title {i}")) for i in range(2 * FIRST_ROWS + 5)]

    class One(App):
        def compose(self):
            yield FitTable((Column("key"), Column("title", flex=True)), cursor="key")

    app = One()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(FitTable)
        table.set_rows(rows)
        assert table.row_count == FIRST_ROWS
        await pilot.pause()
        assert [r.key.value for r in table.ordered_rows] == [k for k, _ in rows]
        chosen = f"K{FIRST_ROWS + 50}"
        table.move_cursor(row=FIRST_ROWS + 50)
        table.set_rows([("NEW", ("NEW", "a new row on top")), *rows])
        await pilot.pause()
        assert table.row_count == len(rows) + 1 and table.current_key() == chosen
        table.set_rows(rows)
        table.set_rows(rows[:10])
        await pilot.pause()
        assert [r.key.value for r in table.ordered_rows] == [k for k, _ in rows[:10]]


async def test_a_fitted_table_measures_no_cell_of_its_rows(monkeypatch):
    """Every column of a FitTable has the width `fit` gave it and every row is one line,
    so adding rows measures none of their cells (DataTable would measure every cell of
    every row on idle); the scrollable size still counts every row and column. A
    wrapping table (rows of several lines) still measures its rows."""
    import textual.widgets._data_table as data_table
    from textual.app import App

    from hotfix_tui.tui.widgets.columns import Column
    from hotfix_tui.tui.widgets.fittable import FitTable

    measured = []  # the row cells measured (the two column labels are measured once)
    real = data_table.measure

    def measure(console, renderable, *args, **kw):
        if getattr(renderable, "plain", renderable) not in ("key", "title"):
            measured.append(renderable)
        return real(console, renderable, *args, **kw)

    monkeypatch.setattr(data_table, "measure", measure)
    rows = [(f"K{i}", (f"K{i}", f"title {i}")) for i in range(300)]

    class Two(App):
        def compose(self):
            yield FitTable((Column("key"), Column("title", flex=True)), id="fit")
            yield FitTable((Column("key"), Column("title", flex=True)), id="wrap",
                           wrap=True)

    app = Two()
    async with app.run_test(size=(80, 24)) as pilot:
        fit, wrap = app.query_one("#fit", FitTable), app.query_one("#wrap", FitTable)
        fit.set_rows(rows)
        await pilot.pause()
        await pilot.pause()
        assert fit.row_count == 300 and measured == []
        width = sum(c.get_render_width(fit) for c in fit.columns.values())
        assert fit.virtual_size == (width, 300 + 1)
        fit.move_cursor(row=299)
        await pilot.pause()
        assert fit.scroll_y > 0 and fit.current_key() == "K299"
        wrap.set_rows(rows[:3])
        await pilot.pause()
        assert measured  # (a wrapping table measures its rows)


async def test_a_fitted_tables_cells_are_drawn_as_datatable_draws_them():
    """FitTable draws a one-line cell from its segments (fittable.py): every character
    and its style are what DataTable's own drawing gives, on the cursor row, on zebra
    stripes, for styled spans, cut titles (`…`), wide characters and empty cells."""
    from rich.text import Text
    from textual.app import App
    from textual.widgets import DataTable

    from hotfix_tui.tui.widgets.columns import Column
    from hotfix_tui.tui.widgets.fittable import FitTable

    def styled(n: int) -> Text:
        text = Text(f"S{n}", style="bold red" if n % 2 else "")
        text.append(" x", style="italic on blue")
        return text

    rows = [(f"K{i}", (styled(i), f"K{i}", "" if i % 3 == 0 else "状態✓" * (i % 4),
                       Text("└ ") + Text(f"a title that is much too long to fit {i} " * 3,
                                         style="underline")))
            for i in range(30)]

    class Three(App):
        def compose(self):
            yield FitTable((Column("sev"), Column("key"), Column("state", most=5),
                            Column("title", flex=True)), zebra_stripes=True)

    app = Three()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(FitTable)
        table.set_rows(rows)
        table.move_cursor(row=3)
        await pilot.pause()
        base = table.rich_style
        compared = 0
        for row in range(12):
            for column, col in enumerate(table.ordered_columns):
                width = col.get_render_width(table)
                for cursor, hover in ((False, False), (True, False), (False, True)):
                    style = table._get_row_style(row, base)
                    table._cell_render_cache.clear()
                    ours = table._render_cell(row, column, style, width, cursor, hover)
                    table._cell_render_cache.clear()
                    theirs = DataTable._render_cell(table, row, column, style, width,
                                                    cursor, hover)
                    assert [[(ch, seg.style) for seg in line for ch in seg.text]
                            for line in ours] == \
                        [[(ch, seg.style) for seg in line for ch in seg.text]
                         for line in theirs], (row, column, cursor, hover)
                    compared += 1
        assert compared == 12 * 4 * 3


@pytest.mark.parametrize("width", [160, 80, 60, 30])
async def test_the_key_bar_draws_what_textuals_footer_draws(width):
    """KeyFooter (one widget) shows every cell of the footer line as Textual's Footer
    (a widget per key) does: the keys in order, an unavailable one dimmed, the command
    palette's key on the right, cut where the width ends; a click presses a key."""
    from textual.app import App
    from textual.binding import Binding
    from textual.screen import Screen
    from textual.widgets import Footer, Label

    from hotfix_tui.tui.widgets.footer import KeyFooter

    pressed = []

    class Keys(Screen):
        BINDINGS = [Binding("n", "go('n')", "New hotfix"), Binding("R", "go('R')", "Rollback"),
                    Binding("question_mark", "go('?')", "Help", key_display="?"),
                    Binding("x", "hidden", "Hidden", show=False),
                    Binding("slash", "go('/')", "Filter", key_display="/")]

        def __init__(self, footer) -> None:
            super().__init__()
            self.footer = footer

        def compose(self):
            yield Label("keys")
            yield self.footer

        def check_action(self, action, parameters):
            return None if parameters == ("R",) else True  # R: shown, unavailable

        def action_go(self, what: str) -> None:
            pressed.append(what)

    def app_with(footer):
        class One(App):
            def on_mount(self):
                self.push_screen(Keys(footer))

        return One

    async def bottom_line(footer):
        app = app_with(footer)()
        async with app.run_test(size=(width, 5)) as pilot:
            await pilot.pause()
            await pilot.pause()
            strip = app.screen._compositor.render_strips()[-1]
            cells = [(ch, seg.style.clear_meta_and_links() if seg.style else None)
                     for seg in strip for ch in seg.text]
            if isinstance(footer, KeyFooter) and width >= 80:
                await pilot.click(KeyFooter, offset=(2, 0))  # the first key: n
                await pilot.pause()
            return cells

    theirs = await bottom_line(Footer())
    ours = await bottom_line(KeyFooter())
    assert ours == theirs
    text = "".join(ch for ch, _ in ours)
    assert text.startswith(" n New hotfix  R R")
    colour = dict((ch, style.color) for ch, style in ours[:20])
    assert colour["R"] != colour["n"]  # the unavailable key is dimmed
    if width >= 80:
        assert text.startswith(" n New hotfix  R Rollback  ? Help  / Filter ")
        assert pressed == ["n"]
