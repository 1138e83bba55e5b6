"""`?`: every binding of the screen it was opened from, and whether it is available now
(a read-only console lists only what it offers)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from .columns import Column
from .fittable import FitTable

GLOBAL = [("ctrl+p", "Command palette: every action, searchable"),
          ("@", "Command log: git commands and runs started here"),
          ("tab, shift+tab", "Move between panes and fields")]
KEY_NAMES = {"escape": "esc", "question_mark": "?", "slash": "/", "space": "space"}
COLUMNS = (Column("key"), Column("action", most=22), Column("now", flex=True, min=10))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help_close")]

    def __init__(self, screen) -> None:
        super().__init__()
        self.source = screen

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal help"):
            yield Label(f"Keys — {type(self.source).__name__.removesuffix('Screen')}",
                        classes="modal-title")
            yield FitTable(COLUMNS, id="keys", wrap=True, show_cursor=False)
            yield Static("Dimmed actions are unavailable now; pressing them says why. "
                         "esc closes this help.", markup=False)

    def on_mount(self) -> None:
        self.query_one("#keys", FitTable).set_rows(
            [(None, row) for row in self.rows()])
        self.set_focus(self.query_one("#keys", FitTable))

    def rows(self) -> list[tuple[str, str, str]]:
        """(keys, action, why it is unavailable now) of every binding the screen offers."""
        out = []
        source = self.source
        for b in screen_bindings(source):
            if source.check_action(b.action, ()) is False:
                continue  # not offered here (a read-only console's changes)
            why = source.why_not(b.action) if hasattr(source, "why_not") else None
            out.append((b.key_display or KEY_NAMES.get(b.key, b.key), b.description or b.action,
                        f"unavailable: {why}" if why else ""))
        out += [(key, what, "") for key, what in GLOBAL]
        return out

    def action_close(self) -> None:
        self.dismiss(None)


def screen_bindings(screen) -> list[Binding]:
    """Every binding of `screen`, its own first, then those it inherits from the console's
    screens (one per action; Textual's own focus keys are listed as GLOBAL)."""
    out: list[Binding] = []
    seen: set[str] = set()
    for cls in type(screen).__mro__:
        if not cls.__module__.startswith("hotfix_tui."):
            continue
        for b in cls.__dict__.get("BINDINGS", []):
            if isinstance(b, Binding) and b.action not in seen:
                seen.add(b.action)
                out.append(b)
    return out
