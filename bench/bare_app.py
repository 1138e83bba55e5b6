"""The baseline console of P1 and P6: a bare Textual app with a Header, a 50-row
DataTable and a Footer, whose rows arrive the way the dashboard's do (a thread
worker posts them; the app applies them in a batch update)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, Label, Log, Static

COLUMNS = ("sev", "key", "state", "age", "who", "info", "title")


@dataclass
class Rows(Message):
    rows: list[tuple[str, ...]]


class BareApp(App):
    TITLE = "bare"

    def __init__(self, on_first_frame: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.on_first_frame = on_first_frame

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)
        table.focus()
        self._load()

    @work(thread=True, exit_on_error=False)
    def _load(self) -> None:
        rows = [(f"S{i % 4 + 1}", f"HF-{i}", "in_review", f"{i}m", "bench", "1/1",
                 f"Fix a problem in component {i}") for i in range(1, 51)]
        self.post_message(Rows(rows))

    def on_rows(self, message: Rows) -> None:
        table = self.query_one(DataTable)
        with self.batch_update():
            for row in message.rows:
                table.add_row(*row, key=row[1])
        if self.on_first_frame is not None:
            self.screen.call_after_refresh(self.on_first_frame)


# ---- P3 live: the same app in a real terminal, with a help modal and a log pane -----------

HELP_KEYS = ["enter", "n", "o", "m", "r", "w", "h", "R", "u", "/", "?", "q", "esc", "j", "k",
             "g", "G", "ctrl+p", "@", "tab"]
HELP_ROWS = [(k, f"Action number {i} of the bare app", "") for i, k in enumerate(HELP_KEYS, 1)]


class HelpModal(ModalScreen[None]):
    """Like the console's help: a title, a 20-row table of keys, a line of text."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Label("Keys — Bare", classes="modal-title")
            yield DataTable(id="keys", cursor_type="row", show_cursor=False)
            yield Static("esc closes this help.", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("key", "action", "now")
        table.add_rows(HELP_ROWS)
        self.set_focus(table)

    def action_close(self) -> None:
        self.dismiss(None)


class BareTerminalApp(App):
    """The P3 live baseline: BareApp's table (or, with `log_lines`, a Log of that many
    lines: the deploy pane's baseline, the same scroll keys), and `?` opens HelpModal."""

    CSS = """
    HelpModal { align: center middle; }
    HelpModal > Vertical { width: 70; height: auto; max-height: 90%; border: thick $accent;
                           background: $surface; padding: 0 1; }
    HelpModal DataTable { height: auto; max-height: 22; }
    """
    BINDINGS = [Binding("question_mark", "help", "Help", key_display="?"),
                Binding("q", "quit", "Quit")]

    def __init__(self, log_lines: int = 0) -> None:
        super().__init__()
        self.log_lines = log_lines

    def compose(self) -> ComposeResult:
        yield Header()
        yield Log(id="log") if self.log_lines else DataTable(cursor_type="row",
                                                             zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        if self.log_lines:
            log = self.query_one(Log)
            log.write_lines(f"line {i}" for i in range(self.log_lines))
            log.scroll_end(animate=False)
            log.focus()
            return
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)
        table.add_rows((f"S{i % 4 + 1}", f"HF-{i}", "in_review", f"{i}m", "bench", "1/1",
                        f"Fix a problem in component {i}") for i in range(1, 51))
        table.focus()

    def action_help(self) -> None:
        self.push_screen(HelpModal())


if __name__ == "__main__":
    import sys

    BareTerminalApp(int(sys.argv[1]) if len(sys.argv) > 1 else 0).run()
