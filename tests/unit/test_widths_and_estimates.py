"""Column widths from the data, the header's facts wrapped between facts, and how long a
run usually takes: pure functions, no terminal."""

from __future__ import annotations

from rich.text import Text

from hotfix_tui.core.estimate import Progress, clock_text, typical_seconds
from hotfix_tui.tui.widgets.columns import PADDING, Column, fit
from hotfix_tui.tui.widgets.common import wrap_parts
from hotfix_tui.tui.widgets.runprogress import progress_text, rate_series

BOARD = (Column("sev"), Column("key"), Column("state"), Column("age"),
         Column("who", drop=2, most=12), Column("info", drop=1, most=16),
         Column("title", flex=True, min=16))
ROWS = [("SEV1", "INC-10000", "open", "3h", "alice", "checkout",
         Text("Payments time out for every card")),
        ("", "HF-100000", "in_review", "12m", "bob?", "0/1 ok",
         Text("└ Retry card authorisation once on a gateway timeout"))]


def _widths(layout, columns=BOARD) -> dict[str, int]:
    return {columns[i].label: w for i, w in layout}


def test_keys_are_never_cut_and_the_title_takes_the_rest():
    layout = _widths(fit(BOARD, ROWS, 80))
    assert layout["key"] == len("HF-100000")
    assert layout["state"] == len("in_review")
    used = sum(w + 2 * PADDING for w in layout.values())
    assert used == 80  # the title fills the row, no more
    assert layout["title"] >= 16


def test_a_narrow_table_drops_the_least_needed_columns_first():
    assert "who" not in _widths(fit(BOARD, ROWS, 60))
    assert "info" in _widths(fit(BOARD, ROWS, 66))
    narrow = _widths(fit(BOARD, ROWS, 56))
    assert "who" not in narrow and "info" not in narrow
    assert narrow["key"] == len("HF-100000") and narrow["title"] >= 16
    wide = _widths(fit(BOARD, ROWS, 160))
    assert set(wide) == {c.label for c in BOARD}


def test_a_column_of_long_values_is_capped_but_a_label_never_cut():
    cols = (Column("who", most=6), Column("what", flex=True, min=4))
    layout = _widths(fit(cols, [("alice (unverified)", "x")], 40), cols)
    assert layout["who"] == 6
    cols = (Column("started", most=3), Column("what", flex=True))
    assert _widths(fit(cols, [("12:00", "x")], 40), cols)["started"] == len("started")


def test_facts_wrap_between_facts_never_inside_one():
    facts = ["approvals 0/1", "INC-2", "1.4.2", "hotfix/1.4.2 from v1.4.1",
             "head 0123456789", "by alice (unverified)"]
    lines = wrap_parts(facts, 57).split("\n")
    assert lines[0].startswith("approvals 0/1")  # the count first, never off the end
    assert all(len(ln) <= 57 for ln in lines)
    assert " · ".join(lines).split(" · ") == facts
    assert not any(ln.endswith("·") or ln.startswith("·") for ln in lines)


def test_the_usual_duration_is_the_median_of_successful_runs():
    assert typical_seconds([]) is None
    assert typical_seconds([0.0]) is None
    assert typical_seconds([30.0, 50.0, 400.0]) == 50.0  # one slow run does not skew it
    p = Progress(elapsed=20, expected=50)
    assert p.fraction == 0.4 and p.remaining == 30 and p.over == 0
    late = Progress(elapsed=70, expected=50)
    assert late.fraction == 1.0 and late.over == 20
    unknown = Progress(elapsed=20, expected=None)
    assert unknown.fraction is None and unknown.remaining is None
    assert clock_text(75) == "01:15" and clock_text(3725) == "1:02:05"
    assert clock_text(None) == "?"


def test_progress_reads_as_an_estimate_or_says_there_is_none():
    assert "40% · 00:20 of usually 00:50 · about 00:30 left" in \
        progress_text(Progress(20, 50), "deploy", "production", True).plain
    assert "over the usual 00:50 by 00:20" in \
        progress_text(Progress(70, 50), "deploy", "production", True).plain
    assert "no estimate: no successful deploy to production yet" in \
        progress_text(Progress(20, None), "deploy", "production", True).plain
    assert progress_text(Progress(52, 50), "verify", "staging", False).plain == \
        "took 00:52 · usually 00:50"


def test_the_output_rate_fits_the_sparkline():
    assert rate_series({0: 5, 1: 5, 2: 0}, 3, 24) == [5.0, 5.0, 0.0]
    squeezed = rate_series({s: 10 for s in range(100)}, 100, 10)
    assert len(squeezed) == 10 and all(v == 10.0 for v in squeezed)
    assert rate_series({}, 0, 24) == [0.0]
