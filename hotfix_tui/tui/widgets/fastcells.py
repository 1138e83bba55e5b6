"""Drawing DataTable rows without rich's general layout machinery (FitTable's drawing).

DataTable draws every cell through `Console.render_lines(Styled(Padding(cell)))`: a
renderable protocol dispatch, a padding renderable, two passes splitting and cropping
lines and two passes applying styles, about 70 µs a cell on a quiet machine. A
screenful of the history browser or the dashboard is 250–300 cells, drawn again after
every change of rows and every focus change (DataTable's caches are keyed on both), so
each such frame cost 20–70 ms. For the cells FitTable actually has (a one-line `Text`
in a row of height 1, no tabs, left-aligned) the same segments are made here directly,
about 5× faster. tests/tui/test_fastcells.py compares both drawings, cell by cell, with
DataTable's own: anything else falls back to it.

A row pays for more than its cells: DataTable looks up the header's, the row's and the
widget's CSS styles (each `rich_style` walks the widget's ancestors) for every line it
draws. `FastDrawing` looks each up once per frame, and draws a row of a row-cursor table
with one style lookup per row; tests/tui/test_fastcells.py compares its lines with
DataTable's, line by line.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip

_NULL = Style.null()
_JOIN = Text("\n")


def _covered(cell: object, inner: int) -> bool:
    """Whether the shortcut draws `cell` as DataTable would: one line of Text, no tabs,
    left-aligned, cut (not left to overflow) where it is too long."""
    if type(cell) is not Text or inner < 1:
        return False
    plain = cell.plain
    return ("\n" not in plain and "\t" not in plain
            and cell.justify in (None, "default") and cell.overflow != "ignore")


def _line(console, cell: Text, inner: int, padding: int) -> list[Segment]:
    """The cell cut or padded to `inner` cells, with `padding` blanks each side."""
    if cell.cell_len > inner:
        cell = cell.copy()
        cell.truncate(inner, overflow=cell.overflow or "fold")
    drawn = cell.cell_len
    pad = [Segment(" " * padding, _NULL)] if padding else []
    if cell._spans or cell.style:
        segments = [*pad, *_JOIN.join([cell]).render(console)]
    else:  # (what rendering it gives)
        segments = [*pad, Segment(cell.plain)]
    if drawn < inner:
        segments.append(Segment(" " * (inner - drawn), _NULL))
    return segments + pad


def one_line_cell(console, cell: object, width: int, padding: int, pre: Style,
                  post: Style) -> list[list[Segment]] | None:
    """The lines DataTable would draw for `cell` in a one-line row `width` cells wide
    with `padding` each side, styled `pre` under and `post` over the cell's own styles;
    None where this shortcut does not apply (DataTable draws it)."""
    inner = width - 2 * padding
    if not _covered(cell, inner):
        return None
    styled = []  # pre and post as Segment.apply_style applies them (Styled, in DataTable)
    for text, style, control in _line(console, cell, inner, padding):
        if not control:
            if pre:
                style = pre + style
            if post:
                style = style + post if style else post
        styled.append(Segment(text, None if control else style, control))
    return [styled]


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
        """Each cell's lines and the row's width; what DataTable works out for each cell
        (its styles, the row's height) is worked out once for the row."""
        header = row_index == -1
        one_line = not getattr(self, "wrap", False) and row_index >= self.fixed_rows and (
            self.header_height == 1 if header else self.rows[row_key].height == 1)
        if one_line:
            renderables = self._get_row_renderables(row_index).cells
            component, post = self._get_styles_to_render_cell(
                header, False, False, hover, cursor, self.show_cursor,
                self._show_hover_cursor, self.cursor_foreground_priority == "css",
                self.cursor_background_priority == "css")
            console, padding = self.app.console, self.cell_padding
        cells = []
        table_width = 0
        for column_index, column in enumerate(self.ordered_columns):
            width = column.get_render_width(self)
            table_width += width
            lines = None
            if one_line and column_index < len(renderables):
                pre = row_style + Style.from_meta({"row": row_index, "column": column_index})
                lines = one_line_cell(console, renderables[column_index], width, padding,
                                      pre + component, post)
            if lines is None:
                lines = self._render_cell(row_index, column_index, row_style, width,
                                          cursor=cursor, hover=hover)
            cells.append(lines)
        return cells, table_width

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False):
        """A one-line cell is drawn directly (one_line_cell); anything else by DataTable."""
        lines = self._one_line_cell(row_index, column_index, base_style, width, cursor, hover)
        if lines is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor,
                                        hover)
        return lines

    def _one_line_cell(self, row_index, column_index, base_style, width, cursor, hover):
        header = row_index == -1
        if column_index < 0 or getattr(self, "wrap", False):
            return None
        if header:
            if self.header_height != 1:
                return None
        else:
            row = self.rows.get(self._row_locations.get_key(row_index))
            if row is None or row.height != 1:
                return None
        cells = self._get_row_renderables(row_index).cells
        if column_index >= len(cells):
            return None
        fixed = not header and (row_index < self.fixed_rows
                                or column_index < self.fixed_columns)
        component, post = self._get_styles_to_render_cell(
            header, False, fixed, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index})
        return one_line_cell(self.app.console, cells[column_index], width, self.cell_padding,
                             pre + component, post)
