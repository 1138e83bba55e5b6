"""FitTable draws its one-line cells itself (fittable.py) and its rows and lines with
fewer style look-ups (widgets/fastcells.py) than DataTable: what it draws must be
exactly what DataTable draws, segment for segment and style for style, and it must not
measure cells whose widths are given."""

from __future__ import annotations

import itertools
import types

from rich.text import Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from hotfix_tui.tui.widgets.columns import Column
from hotfix_tui.tui.widgets.common import plain, state
from hotfix_tui.tui.widgets.fittable import FitTable, as_text

COLUMNS = (Column("key"), Column("state"), Column("who", most=6), Column("note", drop=1),
           Column("title", flex=True, min=8))

ROWS = [
    ("HF-1", ("HF-1", state("deployed"), plain("alice"), "", plain("Fix totals"))),
    ("HF-22", ("HF-22", state("in_review"), plain("bartholomew"), "x" * 40,
               Text("A title far too long for its column, cut with an ellipsis"))),
    ("HF-333", ("HF-333", state("no-such-state"), Text("宽字符名字", style="bold"),
                Text.from_markup("[red]red[/] and [u]under[/]lined"),
                Text.assemble(("BREAK", "bold white on red"), " glass ", ("✓", "green")))),
    ("HF-4", ("HF-4", "plain str", "", Text("crop me hard", overflow="crop"),
              Text("é" * 200))),
]


class TableApp(App):
    def __init__(self, *, zebra: bool = True) -> None:
        super().__init__()
        self.zebra = zebra

    def compose(self) -> ComposeResult:
        yield FitTable(COLUMNS, zebra_stripes=self.zebra)


def _every_cell(table: FitTable):
    """(row index, column index, base style, width, cursor, hover) for every cell, the
    header too, with and without the cursor and the hover on it, in each row style."""
    for row, (column_index, column) in itertools.product(
            range(-1, table.row_count), enumerate(table.ordered_columns)):
        base = table._get_row_style(row, table.rich_style)
        for cursor, hover in itertools.product((False, True), repeat=2):
            yield row, column_index, base, column.get_render_width(table), cursor, hover


def _same_as_datatable(table: FitTable) -> int:
    """How many cells FitTable drew without rich's layout (Console.render_lines), each
    checked against DataTable's drawing."""
    console = table.app.console
    laid_out: list[tuple] = []

    def render_lines(*a, **k):
        laid_out.append(a)
        return type(console).render_lines(console, *a, **k)

    drawn_here = 0
    for args in _every_cell(table):
        table._cell_render_cache.clear()
        laid_out.clear()
        console.render_lines = render_lines
        try:
            ours = table._render_cell(*args)
        finally:
            del console.render_lines
        drawn_here += not laid_out and args[0] >= 0
        table._cell_render_cache.clear()
        theirs = DataTable._render_cell(table, *args)
        assert ours == theirs, args
    return drawn_here


async def test_one_line_cells_are_drawn_exactly_as_datatable_draws_them():
    for zebra, width in ((True, 100), (False, 52), (True, 30)):
        app = TableApp(zebra=zebra)
        async with app.run_test(size=(width, 12)) as pilot:
            table = app.query_one(FitTable)
            table.set_rows(ROWS)
            await pilot.pause()
            cells = len([c for c in _every_cell(table) if c[0] >= 0])  # (the header: DataTable)
            for focused in (True, False):  # (the cursor's style depends on focus)
                if focused:
                    table.focus()
                else:
                    app.set_focus(None)
                await pilot.pause()
                table.move_cursor(row=1)
                # every data cell here is a one-line Text in a one-line row: none is left
                # to DataTable (if a new Textual draws differently, the comparison fails)
                assert _same_as_datatable(table) == cells
                table.hover_coordinate = Coordinate(2, 1)
                assert _same_as_datatable(table) == cells


def _datatable_lines(table: FitTable) -> list:
    """Every line of the table as DataTable itself draws it (its own methods, bound to
    this table for the moment, with its caches emptied)."""
    own = ("render_line", "_render_line_in_row", "_get_row_style", "_render_cell")
    for name in own:
        setattr(table, name, types.MethodType(getattr(DataTable, name), table))
    try:
        for cache in (table._line_cache, table._row_render_cache, table._cell_render_cache):
            cache.clear()
        return [DataTable.render_line(table, y) for y in range(table.size.height)]
    finally:
        for name in own:
            delattr(table, name)
        for cache in (table._line_cache, table._row_render_cache, table._cell_render_cache):
            cache.clear()


async def test_lines_are_drawn_exactly_as_datatable_draws_them():
    """Whole lines (the header, zebra rows, the cursor's row focused or not, the hover,
    the blank beyond the last column), scrolled or not."""
    rows = [(f"HF-{i}", (f"HF-{i}", state("deployed" if i % 3 else "failed"),
                         plain(f"user{i}"), "", plain(f"title {i} " * (i % 7))))
            for i in range(40)]
    for width, zebra in ((100, True), (44, False)):
        app = TableApp(zebra=zebra)
        async with app.run_test(size=(width, 16)) as pilot:
            table = app.query_one(FitTable)
            table.set_rows(rows)
            await pilot.pause()
            for focused, cursor, scroll in ((True, 0, 0), (False, 5, 0), (True, 30, 20)):
                app.set_focus(table if focused else None)
                table.move_cursor(row=cursor, scroll=False)
                table.scroll_to(y=scroll, animate=False, immediate=True)
                table.hover_coordinate = Coordinate(cursor + 1, 0)
                await pilot.pause()
                assert table.scroll_offset.y == scroll
                ours = [table.render_line(y) for y in range(table.size.height)]
                table._frame_styles = {}
                in_a_frame = [table.render_line(y) for y in range(table.size.height)]
                table._frame_styles = None
                theirs = _datatable_lines(table)
                assert ours == theirs and in_a_frame == theirs
                assert any(f"HF-{cursor}" in line.text for line in ours)


async def test_a_fit_table_does_not_measure_its_cells():
    """DataTable measures every cell of every new row (rich's measure, per cell); a
    FitTable's columns have their widths: it sets its scrollable size and nothing else."""
    app = TableApp()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(FitTable)
        table.set_rows(ROWS)
        await pilot.pause()
        assert table.virtual_size.height == len(ROWS) + 1  # rows and the header
        ours = table.virtual_size
        labels = [c.content_width for c in table.ordered_columns]  # (its label's width)
        assert labels == [len(c.label) for c in COLUMNS]  # no cell measured
        DataTable._update_dimensions(table, [r.key for r in table.ordered_rows])
        assert table.virtual_size == ours
        assert [c.content_width for c in table.ordered_columns] != labels  # it would have


def test_as_text_cells_are_what_the_shortcut_takes():
    """FitTable turns every cell into a one-line Text (as_text): the shortcut's case."""
    assert type(as_text("a\nb", flex=False)) is Text
    assert "\n" not in as_text("a\nb", flex=False).plain
