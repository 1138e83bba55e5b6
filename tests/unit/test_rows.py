"""Rows become models (store/rows.py): the plan worked out once per shape of row gives
what reading each field by name gives, whatever the shape."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from hotfix_tui.core.models import HotfixState
from hotfix_tui.store.rows import from_row


@dataclass(frozen=True)
class Thing:
    name: str
    state: HotfixState
    done: bool = False
    note: str = "none"


def _row(sql: str) -> sqlite3.Row:
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    return conn.execute(sql).fetchone()


def test_fields_come_from_their_columns_converted_and_defaults_stay():
    thing = from_row(Thing, _row("SELECT 'a' AS name, 'draft' AS state, 1 AS done"))
    assert thing == Thing("a", HotfixState.DRAFT, True, "none")
    assert isinstance(thing.state, HotfixState) and thing.done is True


def test_each_shape_of_row_has_its_own_plan():
    first = from_row(Thing, _row("SELECT 'draft' AS state, 'a' AS name"))
    other = from_row(Thing, _row("SELECT 'x' AS note, 'b' AS name, 'approved' AS state"))
    assert first == Thing("a", HotfixState.DRAFT)
    assert other == Thing("b", HotfixState.APPROVED, note="x")


def test_renames_given_values_and_the_first_of_two_columns_of_one_name():
    row = _row("SELECT 'a' AS title, 'draft' AS state, 'first' AS note, 'second' AS note")
    assert from_row(Thing, row, {"name": "title"}) == Thing("a", HotfixState.DRAFT,
                                                            note="first")
    given = from_row(Thing, row, {"name": "title"}, note="given", not_a_field=1)
    assert given == Thing("a", HotfixState.DRAFT, note="given")
