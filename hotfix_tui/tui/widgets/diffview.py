"""A diff, drawn a line at a time: only the visible lines are rendered, so a file with a
5 000-line diff costs what a 50-line one does. Colouring is computed once, in a worker."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...core.difftext import classify
from ...core.sanitize import visible
from .common import SCROLL_BINDINGS

STYLES = {
    "+": Style(color="green"),
    "-": Style(color="red"),
    "@": Style(color="cyan"),
    "h": Style(bold=True),
    " ": Style(),
}


def prepare(text: str) -> list[tuple[str, str]]:
    """(kind, text) per line, tabs expanded and control, bidi and invisible characters
    made visible (a diff is where a Trojan Source change hides)."""
    out = []
    lines = text.split("\n")  # not splitlines(): U+2028, U+0085 … are shown, not obeyed
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        out.append((classify(line), visible(line, keep="\t").expandtabs(4)))
    return out


class DiffView(ScrollView, can_focus=True):
    BINDINGS = [
        *SCROLL_BINDINGS,
        Binding("end", "scroll_end", "Bottom", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
    ]

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.lines: list[tuple[str, str]] = []

    def set_lines(self, lines: list[tuple[str, str]]) -> None:
        self.lines = lines
        width = max((len(t) for _, t in lines), default=0)
        self.virtual_size = Size(min(width + 1, 2000), len(lines))
        self.scroll_home(animate=False)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        if index >= len(self.lines):
            return Strip.blank(width, self.rich_style)
        kind, text = self.lines[index]
        strip = Strip([Segment(text, self.rich_style + STYLES[kind])])
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, self.rich_style)
