"""The baseline console of P1 and P6: a bare Textual app with a Header, a 50-row
DataTable and a Footer, whose rows arrive the way the dashboard's do (a thread
worker posts them; the app applies them in a batch update)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import work
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Footer, Header

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
