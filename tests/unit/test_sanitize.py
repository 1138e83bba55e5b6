"""core.sanitize: which characters may reach a terminal, and how the rest is shown."""

from __future__ import annotations

import json
import unicodedata

import pytest

from hotfix_tui.core import sanitize
from hotfix_tui.core.errors import ValidationError
from hotfix_tui.deploy.logtext import CONTROL, HAD_ANSI, LineSplitter, clean_line

HIDDEN = ("Cc", "Cf", "Zl", "Zp", "Cs")


def test_the_unsafe_set_is_every_control_format_and_separator_character():
    """Checked against the running Python's Unicode tables: nothing of those categories
    is missing, and nothing assigned outside them is caught."""
    missing, extra = [], []
    for cp in range(0x110000):
        c = chr(cp)
        cat = unicodedata.category(c)
        caught = sanitize.UNSAFE.match(c) is not None
        if cat in HIDDEN and not caught:
            missing.append(f"U+{cp:04X}")
        if caught and cat not in HIDDEN and cat != "Cn":
            extra.append(f"U+{cp:04X}")
    assert missing == [] and extra == []


@pytest.mark.parametrize(("text", "shown"), [
    ("r\u200boot", "r<U+200B>oot"),
    ("abc\u202edef", "abc<U+202E>def"),
    ("\x9b31m", "<U+009B>31m"),
    ("a\x1b[2Jb", "a\u241b[2Jb"),
    ("x\u2066y\u2069", "x<U+2066>y<U+2069>"),
    ("tag\U000e0041", "tag<U+E0041>"),
    ("caf\u00e9 \u2713 \u4e2d\u6587", "caf\u00e9 \u2713 \u4e2d\u6587"),  # ordinary text stays
])
def test_visible(text, shown):
    assert sanitize.visible(text) == shown


def test_one_line_and_multi_line():
    assert sanitize.visible("a\n\tb\r") == "a\n\tb\u240d"
    assert sanitize.one_line("a\nb\tc\u2028d") == "a b c<U+2028>d"


def test_json_text_keeps_the_value_and_writes_no_unsafe_character():
    value = {"s": "x\u202e\x9b\U000e0041\n\x1b", "k\u200b": [1, "\ufeff"]}
    text = sanitize.json_text(value)
    assert json.loads(text) == value
    assert [c for c in text if c != "\n" and unicodedata.category(c) in HIDDEN] == []


@pytest.mark.parametrize("bad", ["r\u200boot", "a\x9bb", "\u202e", "a\x00", "x\u2028"])
def test_refuse_names_the_character(bad):
    with pytest.raises(ValidationError, match=r"U\+[0-9A-F]{4}"):
        sanitize.refuse(bad, "title")
    assert sanitize.refuse("a\nb", "text", keep="\n") == "a\nb"


@pytest.mark.parametrize(("raw", "text"), [
    ("zw r\u200boot".encode(), "zw r<U+200B>oot"),
    ("rtl \u202egnp.exe".encode(), "rtl <U+202E>gnp.exe"),
    ("bom \ufeff".encode(), "bom <U+FEFF>"),
    (b"c1 \xc2\x85 nel", "c1 <U+0085> nel"),
])
def test_deploy_output_shows_bidi_and_zero_width_characters(raw, text):
    assert clean_line(raw) == (text, CONTROL)
    # the fast path (whole chunks) and the careful one (line by line) agree
    texts, flags, _ = LineSplitter().feed(raw + b"\nplain\n")
    assert texts == [text, "plain"] and flags == [CONTROL, 0]


def test_eight_bit_escape_sequences_are_removed_like_seven_bit_ones():
    assert clean_line(b"a\xc2\x9b2Jb\xc2\x9d0;title\xc2\x9cc") == ("abc", HAD_ANSI)
