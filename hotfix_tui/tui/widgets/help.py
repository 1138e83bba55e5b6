"""`?`: every binding of the screen it was opened from."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

GLOBAL = [("ctrl+p", "Command palette: every action, searchable"),
          ("@", "Command log: git commands and runs started here"),
          ("tab / shift+tab", "Move between panes and fields")]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help_close")]

    def __init__(self, screen) -> None:
        super().__init__()
        self.source = screen

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Label(f"Keys — {type(self.source).__name__.removesuffix('Screen')}",
                        classes="modal-title")
            yield DataTable(id="keys", cursor_type="row", show_cursor=False)
            yield Static("Dimmed actions are unavailable now; pressing them says why. "
                         "esc closes this help.", markup=False)

    def on_mount(self) -> None:
        t = self.query_one("#keys", DataTable)
        t.add_columns("key", "action", "now")
        seen = set()
        for b in getattr(type(self.source), "BINDINGS", []):
            if not isinstance(b, Binding) or b.action in seen:
                continue
            seen.add(b.action)
            why = self.source.why_not(b.action) if hasattr(self.source, "why_not") else None
            keys = b.key_display or b.key
            t.add_row(keys, b.description or b.action, f"unavailable: {why}" if why else "")
        for key, what in GLOBAL:
            t.add_row(key, what, "")
        self.set_focus(t)

    def action_close(self) -> None:
        self.dismiss(None)
