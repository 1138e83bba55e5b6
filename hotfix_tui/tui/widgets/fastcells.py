"""Drawing a one-line DataTable cell without rich's general layout machinery.

DataTable draws every cell through `Console.render_lines(Styled(Padding(cell)))`: a
renderable protocol dispatch, a padding renderable, two passes splitting and cropping
lines and two passes applying styles, about 70 µs a cell on a quiet machine. A
screenful of the history browser or the dashboard is 250–300 cells, drawn again after
every change of rows and every focus change (DataTable's caches are keyed on both), so
each such frame cost 20–70 ms. For the cells FitTable actually has (a one-line `Text`
in a row of height 1, no tabs, left-aligned) the same segments are made here directly,
about 5× faster. tests/tui/test_fastcells.py compares both drawings, cell by cell, with
DataTable's own: anything else falls back to it.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text

_NULL = Style.null()
_JOIN = Text("\n")


def one_line_cell(console, cell: object, width: int, padding: int, pre: Style,
                  post: Style) -> list[list[Segment]] | None:
    """The lines DataTable would draw for `cell` in a one-line row `width` cells wide
    with `padding` each side, styled `pre` under and `post` over the cell's own styles;
    None where this shortcut does not apply (DataTable draws it)."""
    if type(cell) is not Text:
        return None
    inner = width - 2 * padding
    plain = cell.plain
    if inner < 1 or "\n" in plain or "\t" in plain or cell.justify not in (None, "default"):
        return None
    if cell.overflow == "ignore":
        return None
    line = cell.copy()
    if line.cell_len > inner:
        line.truncate(inner, overflow=cell.overflow or "fold")
    drawn = line.cell_len
    pad = Segment(" " * padding, _NULL) if padding else None
    segments: list[Segment] = [pad] if pad else []
    segments.extend(_JOIN.join([line]).render(console))
    if drawn < inner:
        segments.append(Segment(" " * (inner - drawn), _NULL))
    if pad:
        segments.append(pad)
    if pre:  # (as Segment.apply_style does it, in Styled)
        segments = [Segment(t, None if c else pre + s, c) for t, s, c in segments]
    if post:
        segments = [Segment(t, None if c else (s + post if s else post), c)
                    for t, s, c in segments]
    return [segments]
