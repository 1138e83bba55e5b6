"""The review queue: what waits for the acting user's approval; a approves, x rejects."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from ... import services
from ...clock import age
from ..base import BaseScreen
from ..flows.review import confirm_approve, confirm_reject
from ..messages import OpenHotfix
from ..widgets.columns import Column
from ..widgets.common import clean, plain, state
from ..widgets.filtered import FilteredTable
from ..widgets.footer import KeyFooter


class ReviewScreen(BaseScreen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("a", "approve", "Approve", id="approve"),
        Binding("x", "reject", "Reject", id="reject"),
        Binding("enter", "open", "Open", id="open", show=False),
        Binding("slash", "filter", "Filter", key_display="/", id="filter"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("q", "close", "Close", id="close", show=False),
    ]
    CHANGING = frozenset({"approve", "reject"})

    def __init__(self) -> None:
        super().__init__()
        self.items = []
        self.details = {}
        self.reasons = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Waiting for your approval", id="detail-line", markup=False)
        yield FilteredTable("queue", "/ filter by key, title, author or incident",
                            columns=(Column("key"), Column("state"), Column("incident"),
                                     Column("author", most=16), Column("age", drop=1),
                                     Column("title", flex=True, min=16)))
        yield Static("", id="reasons", classes="reasons", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#queue", DataTable))

    def fetch(self):
        items = services.review_queue(self.ctx)
        details = {}
        reasons = {}
        for h in items[:50]:
            d = services.views.hotfix_detail(self.ctx, h.key)
            details[h.key] = d
            reasons[h.key] = services.views.action_reasons(self.ctx, d)
        return items, details, reasons

    def show(self, data) -> None:
        self.items, self.details, self.reasons = data
        now = self.ctx.clock()
        self.query_one(FilteredTable).set_rows([
            (h.key, (h.key, state(h.state), clean(h.incident), plain(h.author),
                     age(h.updated_at, now),
                     plain(h.title)), f"{h.key} {h.title} {h.author} {h.incident}")
            for h in self.items])
        line = self.query_one("#detail-line", Static)
        line.update(f"{len(self.items)} hotfix(es) wait for your approval" if self.items else
                    "nothing waits for your approval")
        self._show_reasons()

    def _current(self):
        t = self.query_one("#queue", DataTable)
        if t.row_count == 0:
            return None
        return t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value

    @on(DataTable.RowHighlighted)
    def _show_reasons(self) -> None:
        key = self._current()
        text = ""
        if key:
            why = self.why_not("approve")
            if why:
                text = f"approve: {why}"
        self.query_one("#reasons", Static).update(clean(text))
        self.refresh_bindings()

    def why_not(self, action: str) -> str | None:
        base = super().why_not(action)
        if base:
            return base
        key = self._current() if self.is_mounted else None
        if action in ("approve", "reject", "open"):
            if key is None:
                return "nothing selected"
            if action != "open":
                return self.reasons.get(key, {}).get(action)
        return None

    def action_approve(self) -> None:
        confirm_approve(self, self.details[self._current()])

    def action_reject(self) -> None:
        confirm_reject(self, self._current())

    def action_open(self) -> None:
        self.post_message(OpenHotfix(self._current()))

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_open()


