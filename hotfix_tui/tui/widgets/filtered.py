"""A table with a filter line above it: `/` focuses the filter, typing narrows the rows."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Input


class FilteredTable(Vertical):
    DEFAULT_CSS = """
    FilteredTable { height: 1fr; }
    FilteredTable > DataTable { height: 1fr; }
    """

    def __init__(self, table_id: str, placeholder: str = "/ filter", **kw: Any) -> None:
        super().__init__(**kw)
        self.table_id = table_id
        self.placeholder = placeholder
        self.rows: list[tuple[str | None, tuple, str]] = []
        self.needle = ""

    def compose(self) -> ComposeResult:
        yield Input(placeholder=self.placeholder, classes="filter", compact=True)
        yield DataTable(id=self.table_id, cursor_type="row", zebra_stripes=True)

    @property
    def table(self) -> DataTable:
        return self.query_one(DataTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one(Input)

    def set_rows(self, rows: list[tuple[str | None, tuple, str]]) -> None:
        """rows: (key, cells, text to match); the table keeps its cursor where it can."""
        self.rows = rows
        self._render_rows()

    def _render_rows(self) -> None:
        table = self.table
        row = table.cursor_row
        table.clear()
        needle = self.needle.lower()
        for key, cells, hay in self.rows:
            if needle and needle not in hay.lower():
                continue
            table.add_row(*cells, key=key)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.needle = event.value
        self._render_rows()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.set_focus(self.table)
