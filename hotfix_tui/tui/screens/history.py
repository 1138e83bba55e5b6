"""For reviewers: every hotfix ever made, paged from SQLite, with filters and full-text search."""

from __future__ import annotations

import io
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Input, Static

from ... import services
from ...core.errors import HotfixError
from ..base import BaseScreen
from ..messages import OpenHotfix
from ..widgets.columns import Column
from ..widgets.common import clean, plain, state
from ..widgets.confirm import PromptModal
from ..widgets.filtered import FilteredTable
from ..widgets.footer import KeyFooter

# keys whole; the title takes the rest; narrow terminals lose the deploy, then created
COLUMNS = (Column("key"), Column("created", drop=2), Column("state"), Column("incident"),
           Column("author", most=16), Column("deploy", drop=3), Column("title", flex=True,
                                                                         min=16))
PAGE_SIZE = 60  # a screenful or two: the table's cost grows with its rows


def first_page(ctx):
    """(thread) The page the browser opens on: the newest hotfixes."""
    return services.history_page(ctx, "", None, PAGE_SIZE, count=False)


class HistoryScreen(BaseScreen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("slash", "search", "Search", key_display="/", id="search"),
        Binding("enter", "open", "Open", id="open", show=False),
        Binding("right_square_bracket", "next_page", "Next page", key_display="]",
                id="next_page"),
        Binding("left_square_bracket", "prev_page", "Prev page", key_display="[",
                id="prev_page"),
        Binding("e", "export", "Export", id="export"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("q", "close", "Close", id="close", show=False),
    ]

    def __init__(self, query: str = "", first: tuple[int, object] | None = None) -> None:
        """first: the first page of every hotfix, read before the screen opened
        (navigation.py), with the count of changes seen then."""
        super().__init__()
        self._first = first if not query else None
        self.total: int | None = None
        self.query_text = query
        self.starts: list[int | None] = [None]  # the before_id of each page seen
        self.page = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilteredTable("history", "search: words state:deployed author:alice "
                            "env:production inc:INC-3 after:2026-01-01 before:2026-12-31",
                            input_id="query", value=self.query_text, local=False,
                            compact=False, cursor="top", columns=COLUMNS)
        yield Static("", id="detail-line", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#history", DataTable))

    def on_data_changed(self, message) -> None:
        message.prevent_default()  # only the first page follows new hotfixes
        if len(self.starts) == 1:
            self.total = None  # counted again once the new rows are shown
            self.reload()

    def read_before(self):
        first, self._first = self._first, None
        return first

    def fetch(self):
        # rows first; how many match in all is counted after they are on screen
        return services.history_page(self.ctx, self.query_text, self.starts[-1], PAGE_SIZE,
                                     count=False)

    @work(thread=True, exclusive=True, group="count", exit_on_error=False)
    def _count(self, query: str) -> None:
        try:
            total = services.history_page(self.ctx, query, None, 1, count=True).total
        except HotfixError:
            return
        self.app.call_from_thread(self._counted, query, total)

    def _counted(self, query: str, total: int) -> None:
        if query == self.query_text:
            self.total = total
            self._status()

    def show_error(self, message: str) -> None:
        self.query_one("#detail-line", Static).update(clean(f"error: {message}"))

    def show(self, page) -> None:
        self.page = page
        rows = []
        for h in page.rows:
            title = plain(h.title)
            if h.break_glass:
                title.append("  BREAK-GLASS", style="bold white on red")
            rows.append((h.key, (h.key, h.created_at[:10], state(h.state), clean(h.incident),
                                 plain(h.author), state(h.last_deploy_status or "-"), title),
                         ""))
        self.query_one(FilteredTable).set_rows(rows)
        self._status()
        if self.total is None:  # once the rows are drawn: the count's thread competes
            self.call_after_refresh(self._count, self.query_text)

    def _status(self) -> None:
        page = self.page
        if page is None:
            return
        first = (len(self.starts) - 1) * PAGE_SIZE + 1
        last = first + len(page.rows) - 1
        cap = services.history.COUNT_CAP
        if self.total is None:
            total = "…"
        else:
            total = f"{self.total:,}" if self.total <= cap else f"{cap:,}+"
        if page.rows:
            text = f"{first:,}-{last:,} of {total}"
        else:
            text = "no hotfix matches" if self.query_text else "no hotfixes yet"
        if page.has_more:
            text += " · ] next page"
        if len(self.starts) > 1:
            text += " · [ previous page"
        self.query_one("#detail-line", Static).update(text)

    def _current(self) -> str | None:
        return self.query_one(FilteredTable).current_key()

    def binding_state(self):
        page = self.page
        return (bool(page and page.has_more), len(self.starts) > 1, bool(page and page.rows))

    def why_not(self, action: str) -> str | None:
        if action == "next_page" and not (self.page and self.page.has_more):
            return "this is the last page"
        if action == "prev_page" and len(self.starts) <= 1:
            return "this is the first page"
        if action in ("open", "export") and (not self.is_mounted or self._current() is None):
            return "no hotfix selected"
        return super().why_not(action)

    @on(FilteredTable.Searched)
    def _query(self, event: FilteredTable.Searched) -> None:
        # the focus goes to the results with them, in the frame that shows them (a focus
        # move first would draw every row again for the old ones); keys typed meanwhile
        # wait and go to the results
        self.query_text = event.value
        self.starts = [None]
        self.total = None
        hold = self.hold("searching")

        def to_results() -> None:
            self.set_focus(self.query_one(FilteredTable).table)
            hold.release()

        self.reload(then=to_results)

    def action_search(self) -> None:
        self.set_focus(self.query_one("#query", Input))

    def action_next_page(self) -> None:
        self.starts.append(self.page.rows[-1].number)
        self.reload()

    def action_prev_page(self) -> None:
        self.starts.pop()
        self.reload()

    def action_open(self) -> None:
        self.post_message(OpenHotfix(self._current(), readonly=True))

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_open()

    def action_export(self) -> None:
        key = self._current()
        if self.app.is_web:  # in a browser (hotfix serve): a download, nothing on the server
            self._export(key, None)
            return
        default = str(services.default_record_path(self.ctx, key))

        def chosen(path: str | None) -> None:
            if path:
                self._export(key, path)

        self.app.push_screen(PromptModal(
            f"Export the record of {key}", "Write the Markdown record to:", "Export",
            body="A folder gets HF-n-record.md in it. The default folder is [export] dir "
                 "in .hotfix.toml, or your data directory: never the repository's "
                 "checkout.", value=default), chosen)

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self, key: str, path: str | None) -> None:
        try:
            if path is None:
                text = services.export(self.ctx, key, "md")
            else:
                written = services.export_to_file(self.ctx, key, Path(path))
        except HotfixError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        if path is None:
            name = f"{key}-record.md"
            self.app.call_from_thread(self.app.deliver_text, io.StringIO(str(text)),
                                      save_filename=name, mime_type="text/markdown")
            self.app.call_from_thread(self.notify, f"{key} record downloading as {name}",
                                      title="exported")
            return
        self.app.call_from_thread(self.notify, clean(f"{key} record written to {written}"),
                                  title="exported")
