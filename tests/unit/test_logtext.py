"""Splitting and cleaning a command's output: pure, no processes."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from hotfix_tui.core.models import LogLine
from hotfix_tui.deploy.logtext import (
    CONTROL,
    HAD_ANSI,
    INVALID_UTF8,
    MAX_LINE_BYTES,
    TRUNCATED,
    LineSplitter,
    LogBuffer,
    clean_line,
)

AT = "2026-01-01T00:00:00.000Z"
UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def split_all(chunks: list[bytes], max_line: int = MAX_LINE_BYTES) -> list[tuple[str, int]]:
    s = LineSplitter(max_line)
    out: list[tuple[str, int]] = []
    for chunk in chunks:
        texts, flags, _ = s.feed(chunk)
        out.extend(zip(texts, flags or [0] * len(texts), strict=True))
    texts, flags, _ = s.finish()
    out.extend(zip(texts, flags or [0] * len(texts), strict=True))
    return out


def test_flag_values_match_the_model():
    assert (TRUNCATED, INVALID_UTF8, HAD_ANSI) == (
        LogLine.TRUNCATED, LogLine.INVALID_UTF8, LogLine.HAD_ANSI)
    assert CONTROL == 8


def test_plain_lines_and_a_last_line_without_newline():
    assert split_all([b"one\ntwo\nthr", b"ee\nlast"]) == [
        ("one", 0), ("two", 0), ("three", 0), ("last", 0)]


def test_empty_lines_are_lines():
    assert split_all([b"\n\na\n\n"]) == [("", 0), ("", 0), ("a", 0), ("", 0)]


def test_crlf_is_a_line_ending_even_split_across_chunks():
    assert split_all([b"a\r\nb\r", b"\nc\r\n"]) == [("a", 0), ("b", 0), ("c", 0)]


def test_a_lone_carriage_return_is_shown_not_obeyed():
    assert split_all([b"10%\r50%\r100%\n"]) == [("10%\u240d50%\u240d100%", CONTROL)]


def test_invalid_utf8_is_replaced_and_flagged():
    assert clean_line(b"caf\xe9 ok") == ("caf\ufffd ok", INVALID_UTF8)
    assert clean_line("café ✓".encode()) == ("café ✓", 0)


def test_utf8_split_between_reads_is_not_invalid():
    data = "naïve ✓\n".encode()
    assert split_all([data[:3], data[3:9], data[9:]]) == [("naïve ✓", 0)]


def test_ansi_colours_and_cursor_moves_are_stripped():
    assert clean_line(b"\x1b[1;31mred\x1b[0m \x1b[2K\x1b[10Gx") == ("red x", HAD_ANSI)


def test_osc_titles_and_hyperlinks_are_stripped():
    raw = b"\x1b]0;title\x07\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\ end"
    assert clean_line(raw) == ("link end", HAD_ANSI)


def test_other_escapes_and_8bit_csi_are_stripped():
    assert clean_line(b"\x1b(Ba\x1b7b\x1b8\x1bPq#0\x1b\\c\xc2\x9b31md") == ("abcd", HAD_ANSI)


def test_unterminated_escape_at_end_of_line_is_stripped():
    assert clean_line(b"ok \x1b[38;5") == ("ok ", HAD_ANSI)
    assert clean_line(b"ok \x1b]0;never ends") == ("ok ", HAD_ANSI)


def test_a_lone_escape_becomes_a_placeholder():
    text, flags = clean_line(b"a\x1b")
    assert text == "a\u241b" and flags == CONTROL


def test_nul_and_control_characters_become_visible_placeholders():
    assert clean_line(b"a\x00b\x07c\x7fd\te") == ("a\u2400b\u2407c\u2421d\te", CONTROL)
    text, flags = clean_line("x\u0085y".encode())
    assert flags == CONTROL and not UNSAFE.search(text)


def test_ansi_and_controls_and_invalid_together():
    text, flags = clean_line(b"\x1b[32m\xff\x00\x1b[0m")
    assert text == "\ufffd\u2400"
    assert flags == HAD_ANSI | CONTROL | INVALID_UTF8


def test_long_line_is_cut_at_the_limit_and_the_rest_discarded():
    s = LineSplitter(10)
    texts, flags, n = s.feed(b"0123456789abcdef")
    assert texts == ["0123456789"] and flags == [TRUNCATED] and n == 16
    texts, flags, n = s.feed(b"ghij\nnext\n")
    assert texts == ["next"] and flags is None and n == 10


def test_long_line_within_one_chunk():
    assert split_all([b"short\n" + b"x" * 25 + b"\nafter\n"], max_line=10) == [
        ("short", 0), ("x" * 10, TRUNCATED), ("after", 0)]


def test_line_of_exactly_the_limit_is_whole():
    assert split_all([b"x" * 10, b"\r\n"], max_line=10) == [("x" * 10, 0)]


def test_cut_does_not_split_a_utf8_character():
    text, flags = clean_line("ab€".encode(), max_bytes=4)  # € is 3 bytes
    assert text == "ab" and flags == TRUNCATED


def test_placeholders_never_push_a_line_over_the_limit():
    text, flags = clean_line(b"\x00" * 10, max_bytes=10)
    assert len(text.encode()) <= 10
    assert flags & CONTROL and flags & TRUNCATED


def test_one_mebibyte_line_without_newline():
    lines = split_all([b"y" * 65536] * 16)
    assert lines == [("y" * MAX_LINE_BYTES, TRUNCATED)]


def test_buffer_numbers_lines_across_streams_and_sys():
    b = LogBuffer(0)
    b.sys("$ deploy", AT)
    b.feed("out", b"a\nb\n", AT)
    b.feed("err", b"oops\n", AT)
    b.feed("out", b"c", AT)
    b.close("out", AT)
    b.close("err", AT)
    rows = [(b_.first_seq + i, b_.stream, t) for b_ in b.take() for i, t in enumerate(b_.texts)]
    assert rows == [(1, "sys", "$ deploy"), (2, "out", "a"), (3, "out", "b"),
                    (4, "err", "oops"), (5, "out", "c")]
    assert b.lines == 5
    assert b.bytes == 10 and b.dropped_bytes == 0 and not b.capped


def test_buffer_cap_stops_at_a_whole_line_and_counts_the_rest():
    b = LogBuffer(25)
    b.feed("out", b"".join(b"line %04d\n" % i for i in range(10)), AT)  # 10 bytes each
    b.feed("err", b"more\n", AT)
    b.close("out", AT)
    b.close("err", AT)
    texts = [t for blk in b.take() for t in blk.texts]
    assert texts == ["line 0000", "line 0001"]
    assert b.capped and b.bytes == 20 and b.dropped_bytes == 85
    assert "85 bytes" in (b.cap_note() or "")


def test_buffer_cap_drops_unfinished_lines_of_both_streams():
    b = LogBuffer(10)
    b.feed("err", b"half", AT)
    b.feed("out", b"12345\n67890\n", AT)
    b.close("out", AT)
    b.close("err", AT)
    assert [t for blk in b.take() for t in blk.texts] == ["12345"]
    assert b.bytes + b.dropped_bytes == 16


def test_untake_puts_blocks_back_in_order():
    b = LogBuffer(0)
    b.feed("out", b"a\n", AT)
    first = b.take()
    b.feed("out", b"b\n", AT)
    b.untake(first)
    assert [t for blk in b.take() for t in blk.texts] == ["a", "b"]


def test_sys_lines_are_cleaned_too():
    b = LogBuffer(0)
    b.sys("$ sh -c 'echo a\necho b' \x1b[31m", AT)
    (blk,) = b.take()
    assert blk.texts == ["$ sh -c 'echo a\u240aecho b' "]
    assert blk.flags == [HAD_ANSI | CONTROL]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=12), st.integers(min_value=4, max_value=30))
def test_any_chunking_gives_the_same_lines(chunks: list[bytes], max_line: int):
    whole = b"".join(chunks)
    pieces = split_all(chunks, max_line)
    assert pieces == split_all([whole], max_line)
    assert pieces == split_all([bytes([c]) for c in whole], max_line)
    for text, _ in pieces:
        assert not UNSAFE.search(text)
        assert "\x1b" not in text
        assert len(text.encode()) <= max_line


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["out", "err"]), st.binary(max_size=50)), max_size=12),
       st.integers(min_value=0, max_value=200))
def test_stored_plus_dropped_is_all_output(feeds: list[tuple[str, bytes]], cap: int):
    b = LogBuffer(cap, max_line_bytes=16)
    for stream, data in feeds:
        b.feed(stream, data, AT)
    b.close("out", AT)
    b.close("err", AT)
    total = sum(len(d) for _, d in feeds)
    assert b.bytes + b.dropped_bytes == total
    if cap:
        assert b.bytes <= cap
    blocks = b.take()
    seqs = [blk.first_seq + i for blk in blocks for i in range(len(blk.texts))]
    assert seqs == list(range(1, len(seqs) + 1))
    assert b.lines == len(seqs)


def test_take_in_parts_keeps_whole_blocks_and_order():
    b = LogBuffer(0)
    for _ in range(5):
        b.feed("out", b"x\n" * 3, AT)  # five blocks of three lines
    first = b.take(max_lines=7)
    assert [blk.last_seq for blk in first] == [3, 6]
    assert first[-1].bytes_after == 12
    assert b.pending_lines == 9
    rest = b.take(max_lines=1)  # at least one block, even when it is larger
    assert [blk.first_seq for blk in rest] == [7]
    assert [blk.first_seq for blk in b.take()] == [10, 13]
    assert b.pending_lines == 0 and b.lines == 15
