"""Drawing a DataTable's rows and lines with less work per row and per line.

FitTable draws a one-line cell straight from its segments (fittable.py). What was left
of drawing a screenful of rows was per row and per line: DataTable looks up the header's,
the row's and the widget's CSS styles (each `rich_style` walks the widget's ancestors,
~170 µs here) for every line it draws, and works out the cursor's styles for every
cell. `FastDrawing` looks each style up once per frame and draws a row of a row-cursor
table with one look-up of its styles; tests/tui/test_fastcells.py compares its lines
with DataTable's own, line by line, and anything else is left to DataTable.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip


class FastDrawing:
    """DataTable drawing methods for FitTable (a mixin before DataTable): the same
    segments as DataTable's, with less work per cell, row and line."""

    _frame_styles: dict[str, Style] | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        self._frame_styles = {}  # CSS styles do not change within a frame
        try:
            return super().render_lines(crop)
        finally:
            self._frame_styles = None

    def _style_of(self, component: str) -> Style:
        """A component's (or, for "", the widget's) rich style, once per frame."""
        styles = self._frame_styles
        style = styles.get(component) if styles is not None else None
        if style is None:
            style = self.get_component_styles(component).rich_style if component \
                else self.rich_style
            if styles is not None:
                styles[component] = style
        return style

    def render_line(self, y: int) -> Strip:
        if self.fixed_rows:
            return super().render_line(y)
        scroll_x, scroll_y = self.scroll_offset
        if y >= (self.header_height if self.show_header else 0):
            y += scroll_y
        width = self.size.width
        return self._render_line(y, scroll_x, scroll_x + width, self._style_of(""))

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        if row_index == -1:
            return self._style_of("datatable--header")
        if row_index < self.fixed_rows:
            return self._style_of("datatable--fixed")
        if self.zebra_stripes:
            return self._style_of("datatable--odd-row" if row_index % 2
                                  else "datatable--even-row")
        return base_style

    def _render_line_in_row(self, row_key, line_no: int, base_style: Style,
                            cursor_location, hover_location):
        if self.cursor_type != "row" or self.fixed_columns or (
                self._labelled_row_exists and self.show_row_labels):
            return super()._render_line_in_row(row_key, line_no, base_style,
                                               cursor_location, hover_location)
        cache_key = (row_key, line_no, base_style, cursor_location, hover_location,
                     self.cursor_type, self.show_cursor, self._show_hover_cursor,
                     self._update_count, self._pseudo_class_state)
        cached = self._row_render_cache.get(cache_key)
        if cached is not None:
            return cached
        locations = self._row_locations
        row_index = locations.get(row_key) if row_key in locations else -1
        header = row_index == -1
        row_style = self._get_row_style(row_index, base_style)
        cursor = cursor_location.row == row_index  # (a row cursor covers every cell)
        hover = hover_location.row == row_index
        show_cursor, show_hover = self.show_cursor, self._show_hover_cursor
        cells, table_width = self._row_cells(row_key, row_index, row_style, cursor, hover)
        cells = [lines[line_no] for lines in cells]
        extend, _ = self._get_styles_to_render_cell(
            header, False, False, hover_location.row == (row_index or 0), cursor,
            show_cursor, show_hover, False, False)
        extend = row_style + extend + Style.from_meta(
            {"row": row_index, "column": 0, "out_of_bounds": True})
        remaining = max(0, self.size.width - table_width - self._row_label_column_width)
        cells.append([Segment(" " * remaining, extend)])
        drawn = ([], cells)
        self._row_render_cache[cache_key] = drawn
        return drawn

    def _row_cells(self, row_key, row_index: int, row_style: Style, cursor: bool,
                   hover: bool) -> tuple[list, int]:
        """Each cell's lines (FitTable draws them) and the row's width."""
        cells = []
        table_width = 0
        for column_index, column in enumerate(self.ordered_columns):
            width = column.get_render_width(self)
            table_width += width
            cells.append(self._render_cell(row_index, column_index, row_style, width,
                                           cursor=cursor, hover=hover))
        return cells, table_width
