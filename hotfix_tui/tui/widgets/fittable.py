"""A DataTable whose columns fit the data and the width (columns.py), again on resize.

Rows are given whole; the table shows the columns that fit. `i` (BaseScreen) shows the
selected row with every column, in full.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from ...core.sanitize import one_line
from .columns import Column, fit
from .fastcells import FastDrawing

Row = tuple[str | None, Sequence[object]]  # (key, one cell per column)
# Rows added before the first frame; the rest right after it (a dashboard of a year's open
# incidents draws its first screen as fast as a short one).
FIRST_ROWS = 100


def as_text(cell: object, flex: bool) -> Text:
    """A cell as Text, never read as markup (it carries names and titles people typed);
    the flex column ends in `…` where it is cut, or wraps in a wrapping table."""
    text = cell.copy() if isinstance(cell, Text) else Text(one_line(str(cell)))
    text.end = ""
    if flex:
        text.overflow = "ellipsis"
    return text


class FitTable(FastDrawing, DataTable):
    """cursor: where it goes when the rows change: "index" (the same place), "key" (the
    same row, else the top) or "top". wrap: the flex column wraps instead of ending in
    `…` (rows grow; for short tables like help)."""

    def __init__(self, columns: Sequence[Column], *, cursor: str = "index",
                 wrap: bool = False, **kw) -> None:
        kw.setdefault("cursor_type", "row")
        super().__init__(**kw)
        self.fit_columns = tuple(columns)
        self.cursor_policy = cursor
        self.wrap = wrap
        self.rows_given: list[Row] = []
        self._layout: list[tuple[int, int]] | None = None
        self._generation = 0  # of set_rows: rows added after a frame belong to one
        self._width_seen = 0

    # -- rows --------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[Row]) -> None:
        self.rows_given = list(rows)
        self._render()

    def current_key(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def full_row(self, index: int) -> list[tuple[str, object]]:
        """(label, cell) of every column of the row at `index`, shown or not."""
        if not 0 <= index < len(self.rows_given):
            return []
        cells = self.rows_given[index][1]
        return [(c.label, cells[i] if i < len(cells) else "")
                for i, c in enumerate(self.fit_columns)]

    def _available(self) -> int:
        width = self.size.width or (self.app.size.width - 2)
        visible = max(0, self.size.height - (1 if self.show_header else 0))
        if self.size.height and len(self.rows_given) > visible:
            width -= self.styles.scrollbar_size_vertical
        return width

    def _render(self) -> None:
        layout = fit(self.fit_columns, [cells for _, cells in self.rows_given],
                     self._available())
        self._width_seen = self.size.width
        self._generation += 1
        if layout == self._layout and len(self.rows_given) == self.row_count and \
                self._update_in_place(self._texts(layout, self.rows_given)):
            return
        row, keep = self.cursor_row, self.current_key()
        if layout != self._layout:
            self.clear(columns=True)
            for i, width in layout:
                col = self.fit_columns[i]
                self.add_column(col.label, width=width, key=col.id)
            self._layout = layout
        else:
            self.clear()
        self._add(layout, self.rows_given[:FIRST_ROWS])
        placed = self._place_cursor(row, keep)
        if len(self.rows_given) > FIRST_ROWS:  # the rest right after the first frame
            self.call_after_refresh(self._add_rest, self._generation, layout,
                                    None if placed else (row, keep), self.cursor_row)

    def _add_rest(self, generation: int, layout, cursor: tuple[int, str | None] | None,
                  left_at: int) -> None:
        if generation != self._generation:
            return  # the rows were set again meanwhile
        self._add(layout, self.rows_given[FIRST_ROWS:])
        if cursor is not None and self.cursor_row == left_at:  # (not moved meanwhile)
            self._place_cursor(*cursor)  # where it was is among the rows added now

    def _texts(self, layout, rows: Sequence[Row]) -> list[tuple[str | None, list[Text]]]:
        return [(key, [as_text(cells[i] if i < len(cells) else "",
                               self.fit_columns[i].flex and not self.wrap)
                       for i, _ in layout]) for key, cells in rows]

    def _add(self, layout, rows: Sequence[Row]) -> None:
        height = None if self.wrap else 1
        for key, texts in self._texts(layout, rows):
            self.add_row(*texts, key=key, height=height)
        if not self._measures():
            # sized now, not when idle: the frame with the rows has their scrollbar (else
            # a second frame of the whole screen follows for the new size)
            self._require_update_dimensions = False
            self._new_rows.clear()
            self._update_dimensions(())

    def _update_in_place(self, rows: list[tuple[str | None, list[Text]]]) -> bool:
        """The same rows in the same order and the same columns (what a reload mostly
        brings): change only the cells that differ. No clear and refill: the table does
        not measure every row again, the cursor stays put, and no RowHighlighted rebuilds
        the screen's footer. Rows that wrap may change height: those are filled again."""
        if self.wrap or not rows or len(rows) != self.row_count:
            return False
        if any(key is None for key, _ in rows):
            return False  # (rows without a key cannot be matched)
        if [r.key.value for r in self.ordered_rows] != [key for key, _ in rows]:
            return False
        columns = self.ordered_columns
        for key, texts in rows:
            for column, new, was in zip(columns, texts, self.get_row(key), strict=True):
                if new != was:
                    self.update_cell(key, column.key, new)
        return True

    def _place_cursor(self, row: int, keep: str | None) -> bool:
        """Put the cursor where `cursor_policy` says; False if that row is not (yet)
        in the table."""
        if not self.row_count:
            return not self.rows_given
        if self.cursor_policy == "index":
            self.move_cursor(row=min(row, self.row_count - 1), scroll=False)
            return row < self.row_count or self.row_count == len(self.rows_given)
        if self.cursor_policy == "key" and keep is not None:
            try:
                self.move_cursor(row=self.get_row_index(keep))
            except RowDoesNotExist:
                return self.row_count == len(self.rows_given)
        return True

    # -- drawing (main: cells here; rows and lines: fastcells.FastDrawing) and sizing ----
    def _measures(self) -> bool:
        """Whether cells must be measured: rows that wrap, columns without a width."""
        return self.wrap or any(c.auto_width for c in self.columns.values())

    def _update_dimensions(self, new_rows) -> None:
        """DataTable measures every cell of every new row (on idle) for the widths of its
        auto-width columns and the heights of its auto-height rows. Here every column has
        the width `fit` gave it and, unless the table wraps, every row is one line: there
        is nothing to measure (for a thousand rows that was most of adding them), only the
        scrollable size to set."""
        rows = self.rows
        if self.wrap or any(c.auto_width for c in self.columns.values()) or any(
                rows[k].label is not None for k in new_rows if k in rows):
            super()._update_dimensions(new_rows)
            return
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            sum(c.get_render_width(self) for c in self.columns.values())
            + self._row_label_column_width, self._total_row_height + header)

    def _render_cell(self, row_index: int, column_index: int, base_style: Style,
                     width: int, cursor: bool = False, hover: bool = False):
        """A one-line Text cell drawn straight from its segments: what DataTable gets
        from Rich's console (the cell padded, cropped or cut with `…`, then styled) for a
        fraction of the work, which was most of drawing a screen of rows. Anything else
        (the header, a wrapping table, a cell of several lines) is DataTable's."""
        if row_index < 0 or column_index < 0 or self.wrap or width <= 2 * self.cell_padding:
            return super()._render_cell(row_index, column_index, base_style, width, cursor,
                                        hover)
        row_key = self._row_locations.get_key(row_index)
        cache_key = (row_key, self._column_locations.get_key(column_index), base_style,
                     cursor, hover, self._show_hover_cursor, self._update_count,
                     self._pseudo_class_state)
        lines = self._cell_render_cache.get(cache_key)
        if lines is not None:
            return lines
        row = self.rows.get(row_key)
        cells = self._get_row_renderables(row_index).cells
        cell = cells[column_index] if column_index < len(cells) else None
        if row is None or row.height != 1 or not isinstance(cell, Text) \
                or cell.justify not in (None, "default") or "\n" in cell.plain \
                or "\t" in cell.plain:
            return super()._render_cell(row_index, column_index, base_style, width, cursor,
                                        hover)
        lines = [self._cell_line(cell, row_index, column_index, base_style, width, cursor,
                                 hover)]
        self._cell_render_cache[cache_key] = lines
        return lines

    def _cell_line(self, cell: Text, row_index: int, column_index: int, base_style: Style,
                   width: int, cursor: bool, hover: bool) -> list[Segment]:
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        component, post = self._get_styles_to_render_cell(
            False, False, fixed, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) \
            + component
        console = self.app.console
        inner = width - 2 * self.cell_padding
        text = cell.copy()
        text.truncate(inner, overflow=cell.overflow or "fold")
        segments = Segment.adjust_line_length(
            list(Text("\n").join([text]).render(console)), inner, pad=True)
        padding = Segment(" " * self.cell_padding)
        return [Segment(t, None if control else pre + s + post, control)
                for t, s, control in [padding, *segments, padding]]

    def on_resize(self, event: events.Resize) -> None:
        if self.rows_given and event.size.width != self._width_seen:
            self._render()
