"""The form that opens a new incident."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Input, Label, Select, Static

from ...core.models import Severity
from .confirm import Modal, buttons


class OpenIncidentModal(Modal[dict | None]):
    """Title, severity and service of a new incident; starts in the title."""

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
            yield buttons(Button("Open", id="confirm", variant="primary"))

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        title = self.query_one("#title", Input).value.strip()
        if not title:
            self.problem("a title is required")
            self.set_focus(self.query_one("#title", Input))
            return
        self.dismiss({"title": title, "severity": self.query_one("#severity", Select).value,
                      "service": self.query_one("#service", Input).value.strip()})
