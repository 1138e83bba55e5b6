"""The one place that decides which characters may reach a terminal. Pure: no I/O.

Unsafe are the characters a terminal obeys or a reader cannot see:

- C0 controls (U+0000-U+001F, ESC among them) and DEL;
- C1 controls (U+0080-U+009F): 8-bit CSI and OSC, which xterm-class terminals obey;
- every other invisible format character (Unicode categories Cf, Zl, Zp): bidi
  embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
  U+061C), zero-width characters (U+200B-U+200D, U+2060-U+2064, U+FEFF), the soft
  hyphen, tag characters (U+E0000-U+E007F) and the line and paragraph separators;
- lone surrogates.

What users type (names, titles, reasons, comments) is refused when it holds one
(`refuse`); what comes from git, from deploy output or from an older record is
shown with each one made visible (`visible`, `one_line`, `json_text`), so
`r\\u200boot` reads `r<U+200B>oot`, never `root`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from .errors import ValidationError

# The ranges below are the Unicode 15.1 characters of categories Cc, Cf, Zl, Zp and
# Cs (tests/unit/test_sanitize.py checks them against the running Python's tables).
_C0 = "\x00-\x1f\x7f"
_BEYOND_C0 = (
    "\x80-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2"
    "\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff"
    "\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_RANGES = _C0 + _BEYOND_C0
UNSAFE = re.compile(f"[{_RANGES}]")
# The unsafe characters but C0 and DEL: what a stream of 7-bit escape sequences (a
# full-screen program's own output) must never carry.
BEYOND_C0 = re.compile(f"[{_BEYOND_C0}]")
_KEEP_CACHE: dict[str, re.Pattern[str]] = {"": UNSAFE}


def pattern(keep: str = "") -> re.Pattern[str]:
    """The unsafe characters except those in `keep` (say "\\n\\t" for multi-line text)."""
    found = _KEEP_CACHE.get(keep)
    if found is None:
        drop = "".join(re.escape(c) for c in keep)
        found = re.compile(f"(?![{drop}])[{_RANGES}]")
        _KEEP_CACHE[keep] = found
    return found


def marker(c: str) -> str:
    """How one unsafe character is shown: a control picture for C0 and DEL (␛, ␡),
    the code point for the rest (<U+202E>)."""
    n = ord(c)
    if n < 0x20:
        return chr(0x2400 + n)
    if n == 0x7F:
        return "\u2421"
    return f"<U+{n:04X}>"


def _mark(m: re.Match[str]) -> str:
    return marker(m.group())


def visible(text: Any, keep: str = "\n\t") -> str:
    """`text` with every unsafe character (but those in `keep`) made visible."""
    if text is None:
        return ""
    text = str(text)
    pat = pattern(keep)
    return pat.sub(_mark, text) if pat.search(text) else text


def one_line(text: Any) -> str:
    """`text` as one line: line breaks and tabs become spaces, the rest is made visible."""
    if text is None:
        return ""
    text = str(text)
    if "\n" in text or "\t" in text or "\r" in text:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    return visible(text, keep="")


def name_of(c: str) -> str:
    """`U+202E (RIGHT-TO-LEFT OVERRIDE)` for messages."""
    label = unicodedata.name(c, "")
    if not label and ord(c) < 0x20:
        label = "control character"
    return f"U+{ord(c):04X}" + (f" ({label})" if label else "")


def first_unsafe(text: str, keep: str = "") -> str | None:
    m = pattern(keep).search(text)
    return m.group() if m else None


def refuse(text: str, what: str, keep: str = "") -> str:
    """Return `text` when it holds no unsafe character (but those in `keep`); raise a
    ValidationError naming the first one otherwise."""
    bad = first_unsafe(text, keep)
    if bad is not None:
        raise ValidationError(f"{what} must not contain control characters or invisible "
                              f"formatting (bidi, zero-width); found {name_of(bad)}")
    return text


def _escape(m: re.Match[str]) -> str:
    return json.dumps(m.group())[1:-1]  # ensure_ascii: \u202e, or a surrogate pair


def json_text(value: Any, indent: int | None = 2) -> str:
    """One JSON document whose text holds no unsafe character: each is written as a
    \\u escape, so a parser reads the value exactly and a terminal shows it harmlessly."""
    text = json.dumps(value, indent=indent, ensure_ascii=False, default=str)
    pat = pattern("\n")  # json.dumps escapes C0 inside strings; a raw \n is layout
    return pat.sub(_escape, text) if pat.search(text) else text
