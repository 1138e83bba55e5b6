"""A table with a filter line above it: `/` focuses the filter, typing narrows the rows,
`enter` (or `down`) goes to the list.

With `local=False` the line is a search that the screen runs itself (the history
browser pages through SQLite): typing narrows nothing, `enter` posts `Searched`, and the
screen moves the focus to the list when it shows the results (one frame for both, not a
frame of the old rows focused first; keys typed meanwhile wait for it: typeahead.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Key
from textual.message import Message
from textual.widgets import Input

from .columns import Column
from .fittable import FitTable

Row = tuple[str | None, tuple, str]  # (key, cells, text the filter matches)


class FilteredTable(Vertical):
    DEFAULT_CSS = """
    FilteredTable { height: 1fr; }
    FilteredTable > FitTable { height: 1fr; }
    """

    class Filtered(Message):
        """The filter changed what the table shows."""

        def __init__(self, needle: str, shown: int) -> None:
            super().__init__()
            self.needle = needle
            self.shown = shown

    class Searched(Message):
        """`enter` in a search line (local=False): the screen runs the search."""

        def __init__(self, value: str) -> None:
            super().__init__()
            self.value = value

    def __init__(self, table_id: str, placeholder: str = "/ filter", *,
                 columns: Sequence[Column], input_id: str | None = None, value: str = "",
                 local: bool = True, compact: bool = True, cursor: str = "index",
                 **kw: Any) -> None:
        """cursor: where it goes when the rows change: "index" (the same place), "key" (the
        same row, else the top) or "top"."""
        super().__init__(**kw)
        self.columns = tuple(columns)
        self.cursor = cursor
        self.table_id = table_id
        self.placeholder = placeholder
        self.input_id = input_id
        self.value = value
        self.local = local
        self.compact = compact
        self.rows: list[Row] = []
        self.needle = ""

    def compose(self) -> ComposeResult:
        yield Input(value=self.value, placeholder=self.placeholder, id=self.input_id,
                    classes="filter" if self.compact else "", compact=self.compact)
        yield FitTable(self.columns, id=self.table_id, cursor=self.cursor,
                       zebra_stripes=True)

    @property
    def table(self) -> FitTable:
        return self.query_one(FitTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one(Input)

    def set_rows(self, rows: list[Row]) -> None:
        """rows: (key, cells, text to match); the cursor moves as `cursor` says."""
        self.rows = rows
        self._render_rows()

    def current_key(self) -> str | None:
        return self.table.current_key()

    def clear(self) -> None:
        """Empty the filter and go back to the table."""
        self.filter_input.value = ""
        self.needle = ""
        self._render_rows()
        self.screen.set_focus(self.table)

    def _render_rows(self) -> None:
        needle = self.needle.lower() if self.local else ""
        self.table.set_rows([(key, cells) for key, cells, hay in self.rows
                             if not needle or needle in hay.lower()])

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if not self.local:
            return
        self.needle = event.value
        self._render_rows()
        self.post_message(self.Filtered(self.needle, self.table.row_count))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.local:
            self.post_message(self.Searched(event.value.strip()))
            return
        self.screen.set_focus(self.table)

    def on_key(self, event: Key) -> None:
        if event.key == "down" and self.filter_input.has_focus:
            event.stop()
            self.screen.set_focus(self.table)
