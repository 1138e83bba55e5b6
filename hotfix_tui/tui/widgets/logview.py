"""A virtual view over a run's log in SQLite: only the visible lines are read and drawn.

Like Toolong's log view, it is a ScrollView using the line API, so its cost does not
grow with the log: a 100-line log and a 1,000,000-line log cost the same to show.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...core.models import LogLine
from ...core.sanitize import visible
from .common import SCROLL_BINDINGS

STAMPED = re.compile(r"\s*(\[?\d{4}-\d\d-\d\d[T ]|\[?\d\d:\d\d:\d\d)")
PAGE = 256
MAX_PAGES = 64
STYLES = {
    "out": Style(),
    "err": Style(color="bright_red"),
    "sys": Style(color="cyan", italic=True),
}
GUTTER = Style(color="grey50")
GUTTER_WIDTH = 9  # "hh:mm:ss "
MARK = Style(color="black", bgcolor="yellow", bold=True)
HIT = Style(bgcolor="dark_goldenrod", color="black")
CURRENT_HIT = Style(bgcolor="yellow", color="black", bold=True)


class LogView(ScrollView, can_focus=True):
    """Lines come from `fetch(first_seq, count)`, called in a worker thread."""

    BINDINGS = [*SCROLL_BINDINGS, Binding("end,G", "follow", "Follow", show=False)]

    follow: reactive[bool] = reactive(True)
    #: long lines wrap onto the next rows instead of running off the right edge
    wrap: reactive[bool] = reactive(False)

    class FollowChanged(Message):
        def __init__(self, follow: bool) -> None:
            super().__init__()
            self.follow = follow

    def __init__(self, fetch: Callable[[int, int], list], **kw) -> None:
        super().__init__(**kw)
        self.fetch = fetch
        self.total = 0
        self.pages: OrderedDict[int, list] = OrderedDict()
        # not `loading`: that is Widget.loading, and a non-empty set there makes Textual
        # treat the view as loading (disabled): keys were dropped while a page loaded
        self.pages_loading: set[int] = set()
        self.width_seen = 80
        self.search_term = ""
        self.matches: list[int] = []
        self.current_match: int | None = None
        self._rows_key: tuple | None = None
        self._rows: list[Strip] = []

    # -- size and data ----------------------------------------------------------------
    def set_total(self, total: int) -> None:
        """The log grew (or this is the first look): extend the virtual size."""
        if total != self.total:
            last_page = (self.total - 1) // PAGE if self.total else None
            self.total = total
            if last_page is not None:
                self.pages.pop(last_page, None)  # the last page may have been partial
            self._resize_virtual()
            self.refresh()
        if self.follow:
            # after the layout has taken the new size, or the "end" is the old one
            self.call_after_refresh(self._stick_to_end)

    def _stick_to_end(self) -> None:
        if self.follow and self.scroll_y < self.max_scroll_y:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def reset(self) -> None:
        self.pages.clear()
        self.pages_loading.clear()
        self.total = 0
        self.virtual_size = Size(self.width_seen, 0)
        self.refresh()

    def _page(self, index: int) -> list | None:
        page = self.pages.get(index)
        if page is not None:
            self.pages.move_to_end(index)
            return page
        if index not in self.pages_loading:
            self.pages_loading.add(index)
            self._load(index)
        return None

    @work(thread=True, group="log-pages", exit_on_error=False)
    def _load(self, index: int) -> None:
        try:
            lines = self.fetch(index * PAGE + 1, PAGE)
        except Exception:
            lines = None
        self.app.call_from_thread(self._loaded, index, lines)

    def _loaded(self, index: int, lines: list | None) -> None:
        self.pages_loading.discard(index)
        if lines is None:
            return
        self.pages[index] = lines
        while len(self.pages) > MAX_PAGES:
            self.pages.popitem(last=False)
        widest = max((len(ln.text) + 12 for ln in lines), default=0)
        if widest > self.width_seen:
            self.width_seen = min(widest, 4000)
            self._resize_virtual()
        self._rows_key = None
        self.refresh()

    def _resize_virtual(self) -> None:
        # wrapped, nothing runs off the right edge; a scroll step is still one log line
        width = self.scrollable_content_region.width if self.wrap else self.width_seen
        self.virtual_size = Size(max(1, width), self.total)

    def watch_wrap(self, wrap: bool) -> None:
        self._rows_key = None
        if wrap:
            self.scroll_to(x=0, animate=False)
        self._resize_virtual()
        self.refresh()
        if self.follow:
            self.call_after_refresh(self._stick_to_end)

    def on_resize(self) -> None:
        if self.wrap:
            self._resize_virtual()

    def line_at(self, seq: int):
        if not 1 <= seq <= self.total:
            return None
        page = self._page((seq - 1) // PAGE)
        if page is None:
            return None
        offset = (seq - 1) % PAGE
        return page[offset] if offset < len(page) else None

    # -- drawing -----------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if self.wrap:
            rows = self._wrapped_rows(scroll_y, width)
            if y < len(rows):
                return rows[y].extend_cell_length(width, self.rich_style).crop(0, width)
            return Strip.blank(width, self.rich_style)
        seq = scroll_y + y + 1
        if seq > self.total:
            return Strip.blank(width, self.rich_style)
        line = self.line_at(seq)
        if line is None:
            return Strip([Segment("…", GUTTER)]).extend_cell_length(
                width, self.rich_style).crop(0, width)
        strip = self._line_strip(line, seq)
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width,
                                                                          self.rich_style)

    def _wrapped_rows(self, scroll_y: int, width: int) -> list[Strip]:
        """The rows the view shows when lines wrap, worked out once per frame: from the
        top line down, or, at the end of the log, from its last line up (so the newest
        line is always whole on screen)."""
        height = self.scrollable_content_region.height
        at_end = scroll_y >= self.max_scroll_y
        key = (scroll_y, width, height, self.total, at_end, self.search_term,
               self.current_match, len(self.pages))
        if key == self._rows_key:
            return self._rows
        rows: list[Strip] = []
        if at_end:
            seq = self.total
            while seq >= 1 and len(rows) < height:
                rows[:0] = self._wrap_line(seq, width)
                seq -= 1
            rows = rows[-height:] if len(rows) > height else rows
        else:
            seq = scroll_y + 1
            while seq <= self.total and len(rows) < height:
                rows += self._wrap_line(seq, width)
                seq += 1
        self._rows_key, self._rows = key, rows
        return rows

    def _wrap_line(self, seq: int, width: int) -> list[Strip]:
        line = self.line_at(seq)
        if line is None:
            return [Strip([Segment("…", GUTTER)])]
        strip = self._line_strip(line, seq)
        text_width = max(1, width - GUTTER_WIDTH)
        body = strip.crop(GUTTER_WIDTH, strip.cell_length)
        head = strip.crop(0, GUTTER_WIDTH)
        indent = Strip([Segment(" " * GUTTER_WIDTH, self.rich_style + GUTTER)])
        out = []
        for start in range(0, max(1, body.cell_length), text_width):
            piece = body.crop(start, start + text_width)
            out.append(Strip.join([head if start == 0 else indent, piece]))
        return out

    def _line_strip(self, line, seq: int) -> Strip:
        """One log line, whole: the gutter (when it arrived, unless the line carries its
        own time), the text with search hits, and what was done to it."""
        stamp = "" if STAMPED.match(line.text) else line.at[11:19]
        segments = [Segment(f"{stamp:<8} ", GUTTER)]
        style = STYLES.get(line.stream, Style())
        text = visible(line.text, keep="\t").replace("\t", "    ")  # lines of older versions
        segments += self._highlight(text, style, seq)
        flags = []
        if line.flags & LogLine.TRUNCATED:
            flags.append("[truncated]")
        if line.flags & LogLine.INVALID_UTF8:
            flags.append("[invalid utf-8]")
        if line.flags & LogLine.CONTROL:
            flags.append("[control chars]")
        if flags:
            segments.append(Segment(" " + " ".join(flags), MARK))
        base = self.rich_style  # the view's own background under every segment
        return Strip([Segment(seg.text, base + seg.style if seg.style else base)
                      for seg in segments])

    def _highlight(self, text: str, style: Style, seq: int) -> list[Segment]:
        term = self.search_term
        if not term:
            return [Segment(text, style)]
        low = text.lower()
        needle = term.lower()
        out = []
        pos = 0
        hit_style = CURRENT_HIT if self.current_match == seq else HIT
        while True:
            i = low.find(needle, pos)
            if i < 0:
                out.append(Segment(text[pos:], style))
                return out
            out.append(Segment(text[pos:i], style))
            out.append(Segment(text[i:i + len(needle)], hit_style))
            pos = i + len(needle)

    # -- follow mode ----------------------------------------------------------------------
    # Follow mode changes only on what the user does, never on the view's own scrolling
    # (a programmatic scroll_end as lines arrive must not switch it off).
    def on_mouse_scroll_up(self, event) -> None:
        self.follow = False

    def on_mouse_scroll_down(self, event) -> None:
        self.call_after_refresh(self._follow_if_at_end)

    def _follow_if_at_end(self) -> None:
        if self.scroll_y >= self.max_scroll_y - 0.5:
            self.follow = True

    def watch_follow(self, follow: bool) -> None:
        self.post_message(self.FollowChanged(follow))

    def action_follow(self) -> None:
        self.follow = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def action_scroll_up(self) -> None:
        self.follow = False
        self.scroll_relative(y=-1, animate=False)

    def action_scroll_down(self) -> None:
        self.scroll_relative(y=1, animate=False)
        self.call_after_refresh(self._follow_if_at_end)

    def action_page_up(self) -> None:
        self.follow = False
        self.scroll_page_up(animate=False)

    def action_page_down(self) -> None:
        self.scroll_page_down(animate=False)
        self.call_after_refresh(self._follow_if_at_end)

    def action_scroll_home(self) -> None:
        self.follow = False
        self.scroll_home(animate=False)

    # -- search ----------------------------------------------------------------------------
    def set_matches(self, term: str, matches: list[int]) -> None:
        self.search_term = term
        self.matches = matches
        self.current_match = None
        self.refresh()

    def jump(self, forward: bool = True) -> int | None:
        """Move to the next (or previous) match after the top visible line."""
        if not self.matches:
            return None
        here = self.current_match or (int(self.scroll_offset.y) + 1)
        if forward:
            later = [m for m in self.matches if m > here]
            target = later[0] if later else self.matches[0]
        else:
            earlier = [m for m in self.matches if m < here]
            target = earlier[-1] if earlier else self.matches[-1]
        self.current_match = target
        self.follow = False
        self.scroll_to(y=max(0, target - 1 - self.scrollable_content_region.height // 2),
                       animate=False)
        self.refresh()
        return target
