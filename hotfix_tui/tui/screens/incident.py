"""An incident's timeline."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from ... import services
from ..base import BaseScreen
from ..widgets.columns import Column
from ..widgets.common import clean, plain
from ..widgets.filtered import FilteredTable
from ..widgets.footer import KeyFooter
from ..widgets.timeline import describe


class IncidentScreen(BaseScreen):
    """One incident: its status and timeline (every event of it and its hotfixes)."""

    BINDINGS = BaseScreen.BINDINGS + [
        Binding("slash", "filter", "Filter", key_display="/", id="filter"),
    ]

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="detail-line", markup=False)
        yield FilteredTable("timeline", "/ filter the timeline", columns=(
            Column("time (UTC)", drop=1), Column("who", most=24),
            Column("what", flex=True, min=24)))
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#timeline", DataTable))

    def fetch(self):
        return services.get_incident(self.ctx, self.key), services.timeline(self.ctx,
                                                                                   self.key)

    def show(self, data) -> None:
        inc, events = data
        header = self.query_one("#detail-line", Static)
        header.update(f"{inc.key}  {inc.sev_label}  {inc.status}  {clean(inc.title)}  ·  "
                      f"commander {clean(inc.commander)}  ·  service {clean(inc.service)}")
        rows = []
        for ev in events:
            who = ev.actor if ev.actor_verified else f"{ev.actor} (unverified)"
            what = describe(ev)
            rows.append((None, (ev.at[:19].replace("T", " "), plain(who), what),
                         f"{who} {what.plain}"))
        self.query_one(FilteredTable).set_rows(rows)


