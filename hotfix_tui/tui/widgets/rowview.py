"""`i`: one row of a table with every column in full, for text the table had to cut."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from .common import clean


class RowModal(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,i,enter", "close", "Close", id="row_close")]

    def __init__(self, pairs: list[tuple[str, object]], title: str = "Row in full") -> None:
        super().__init__()
        self.pairs = pairs
        self.title_text = title

    def compose(self) -> ComposeResult:
        label_width = max((len(label) for label, _ in self.pairs), default=0)
        text = Text()
        for n, (label, cell) in enumerate(self.pairs):
            value = cell.copy() if isinstance(cell, Text) else Text(clean(str(cell)))
            text.append(f"{label or '·':>{label_width}}  ", style="bold")
            text.append_text(value)
            if n < len(self.pairs) - 1:
                text.append("\n")
        with Vertical(classes="modal"):
            yield Label(self.title_text, classes="modal-title", markup=False)
            with VerticalScroll(classes="modal-body"):
                yield Static(text, id="row-text")
            yield Static("esc closes", classes="status-line", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
