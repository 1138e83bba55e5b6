"""An incident's timeline, and the modal that opens a new incident."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static

from ... import services
from ...core.models import Severity
from ..base import BaseScreen
from ..widgets.common import clean, plain
from ..widgets.filtered import FilteredTable
from ..widgets.timeline import describe


class OpenIncidentModal(ModalScreen[dict | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal_cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Label("Open an incident", classes="modal-title")
            yield Label("Title (what users see broken):")
            yield Input(id="title", placeholder="Checkout returns 500 for gift card orders")
            yield Label("Severity (SEV1 is the worst; when unsure, pick the higher):")
            yield Select([(Severity.LABELS[n], n) for n in range(1, 5)], value=1,
                         allow_blank=False, id="severity")
            yield Label("Service:")
            yield Input(id="service", placeholder="checkout")
            yield Static("", id="problem", classes="reasons", markup=False)
            with Horizontal(classes="modal-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Open", id="confirm", variant="primary")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#title", Input))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        title = self.query_one("#title", Input).value.strip()
        if not title:
            self.query_one("#problem", Static).update("a title is required")
            return
        self.dismiss({"title": title, "severity": self.query_one("#severity", Select).value,
                      "service": self.query_one("#service", Input).value.strip()})


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
        yield FilteredTable("timeline", "/ filter the timeline")
        yield Footer()

    def on_mount(self) -> None:
        t = self.query_one("#timeline", DataTable)
        t.add_column("time (UTC)", width=19)
        t.add_column("who", width=12)
        t.add_column("what")
        self.set_focus(t)

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


