"""Column widths from the data: keys and other short values are never cut; one column (a
title, a message) takes what is left of the width and ends in `…` when it must; when
even that leaves it too little (a narrow terminal), the least needed columns go first.

Pure: plain values in, widths out; the table widgets (fittable.py) apply them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text

PADDING = 1  # DataTable's cell padding, on each side of every cell


@dataclass(frozen=True)
class Column:
    """One column of a table: its label, key and width rule."""

    label: str
    key: str = ""  # default: the label
    flex: bool = False  # takes the remaining width (at most one per table)
    min: int = 12  # a flex column narrower than this makes other columns go
    drop: int = 0  # 0: always shown; when narrow, the highest goes first
    most: int = 0  # a cap for a column of long values (0: its widest value)

    @property
    def id(self) -> str:
        return self.key or self.label


def width_of(cell: object) -> int:
    """How many cells `cell` takes on one line (a Text: its widest line)."""
    if not isinstance(cell, Text):
        return cell_len(str(cell))
    text = cell.plain
    if "\n" in text:
        return max(cell_len(line) for line in text.split("\n"))
    return cell_len(text)


def natural_widths(columns: Sequence[Column], rows: Sequence[Sequence[object]]
                   ) -> list[int]:
    """Each column as wide as its label and its widest value (capped at `most`)."""
    out = []
    for i, col in enumerate(columns):
        widest = max(map(width_of, [r[i] for r in rows if i < len(r)]), default=0)
        width = max(cell_len(col.label), widest)
        out.append(min(width, max(col.most, cell_len(col.label))) if col.most else width)
    return out


def fit(columns: Sequence[Column], rows: Sequence[Sequence[object]], available: int
        ) -> list[tuple[int, int]]:
    """(column index, width) of the columns to show in `available` cells: every fixed
    column at its natural width, the flex column the rest."""
    natural = natural_widths(columns, rows)
    shown = list(range(len(columns)))
    while True:
        flex = [i for i in shown if columns[i].flex]
        fixed = sum(natural[i] + 2 * PADDING for i in shown if not columns[i].flex)
        rest = available - fixed - 2 * PADDING * len(flex)
        droppable = [i for i in shown if columns[i].drop]
        if not flex or rest >= min(columns[flex[0]].min, natural[flex[0]]) \
                or not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    out = []
    for i in shown:
        if columns[i].flex:
            least = min(columns[i].min, natural[i])
            out.append((i, max(rest, least, 1)))
        else:
            out.append((i, natural[i]))
    return out
