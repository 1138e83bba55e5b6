"""A command's raw output → numbered, safe lines of text. Pure: no I/O.

Output bytes are split on \\n by hand (readline-style APIs fail on very long
lines), decoded as UTF-8 with replacement, stripped of terminal escape
sequences and cleared of control, bidi and invisible characters (core.sanitize),
so that a stored line can be printed to any terminal without changing it. Every
change is recorded in the line's flags.

The common case (printable UTF-8, short lines) costs one regex scan, one
decode and one split per chunk read (plus one more scan when it is not ASCII),
with no per-line Python code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.models import LogLine
from ..core.sanitize import marker, pattern

TRUNCATED = LogLine.TRUNCATED  # 1: longer than MAX_LINE_BYTES; the rest was discarded
INVALID_UTF8 = LogLine.INVALID_UTF8  # 2: bytes that are not UTF-8 became U+FFFD
HAD_ANSI = LogLine.HAD_ANSI  # 4: terminal escape sequences were removed
CONTROL = LogLine.CONTROL  # 8: control, bidi or invisible characters were made visible

MAX_LINE_BYTES = 64 * 1024

# Anything that needs the careful path: C0 controls except \t and \n (this
# includes ESC and \r), DEL, and C1 controls encoded as UTF-8 (\xc2\x80-\xc2\x9f).
_SPECIAL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")
_SPECIAL_IN_LINE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]|\xc2[\x80-\x9f]")  # \n too

# Terminal escape sequences, 7-bit (ESC …) and 8-bit (C1) forms. A sequence cut
# off by the end of the line is removed up to the end of the line.
_ANSI = re.compile(
    "(?:\x1b\\[|\x9b)[0-?]*[ -/]*(?:[@-~]|$)"  # CSI: colours, cursor moves, erase
    "|(?:\x1b\\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\\\|\x9c|$)"  # OSC: titles, hyperlinks
    "|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\\\|\x9c|$)"  # DCS SOS PM APC
    "|\x1b[ -/]*[0-~]"  # two- and three-byte escapes: charsets, keypad, save/restore
)
_UNSAFE_IN_LINE = pattern("\t")  # every unsafe character but the tab
_UNSAFE_IN_BODY = pattern("\t\n")


def _placeholder(m: re.Match[str]) -> str:
    return marker(m.group())  # ␀ … ␟ and ␡ for C0 and DEL, <U+202E> for the rest


def clean_line(raw: bytes, max_bytes: int = MAX_LINE_BYTES) -> tuple[str, int]:
    """One physical line, without its line ending → (text to store, flags).

    The stored text is at most `max_bytes` bytes of UTF-8.
    """
    flags = 0
    if len(raw) > max_bytes:
        cut = max_bytes
        # Do not split a UTF-8 sequence: back off over at most 3 continuation bytes.
        while cut > max_bytes - 3 and cut > 0 and (raw[cut] & 0xC0) == 0x80:
            cut -= 1
        raw = raw[:cut]
        flags |= TRUNCATED
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "replace")
        flags |= INVALID_UTF8
    if _SPECIAL_IN_LINE.search(raw) is not None:
        stripped = _ANSI.sub("", text)
        if len(stripped) != len(text):
            flags |= HAD_ANSI
            text = stripped
    if not text.isascii() or flags & HAD_ANSI or _SPECIAL_IN_LINE.search(raw) is not None:
        replaced = _UNSAFE_IN_LINE.sub(_placeholder, text)
        if replaced != text:
            flags |= CONTROL
            text = replaced
    if flags & (INVALID_UTF8 | CONTROL) and len(text) * 4 > max_bytes:
        # U+FFFD and the placeholders take more bytes than what they replace: check the cap.
        encoded = text.encode("utf-8")
        if len(encoded) > max_bytes:
            text = encoded[:max_bytes].decode("utf-8", "ignore")
            flags |= TRUNCATED
    return text, flags


Lines = tuple[list[str], list[int] | None, int]
"""(texts, flags or None when all are 0, raw bytes these lines took, line endings included)."""


class LineSplitter:
    """Splits one stream (stdout or stderr) into lines, chunk by chunk.

    A line longer than max_line_bytes is stored cut at that length with
    TRUNCATED as soon as it gets that long; the rest of it, up to the next
    newline, is discarded (but still counted in the raw byte total).
    """

    def __init__(self, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.max_line_bytes = max_line_bytes
        self._pending = b""
        self._discarding = False

    @property
    def pending_bytes(self) -> int:
        """Bytes of an unfinished line held back until its newline arrives."""
        return len(self._pending)

    def feed(self, data: bytes) -> Lines:
        texts: list[str] = []
        flags: list[int] = []
        nbytes = 0
        if self._discarding:
            nl = data.find(b"\n")
            if nl < 0:
                return texts, None, len(data)
            nbytes = nl + 1
            data = data[nl + 1:]
            self._discarding = False
        if self._pending:
            data = self._pending + data
            self._pending = b""
        end = data.rfind(b"\n")
        if end >= 0:
            nbytes += end + 1
            self._lines(data[:end], texts, flags)
            data = data[end + 1:]
        if len(data) > self.max_line_bytes + 1:  # (+1: room for the \r of a \r\n)
            # A line already too long: store its head now rather than hold it.
            text, f = clean_line(data, self.max_line_bytes)
            texts.append(text)
            flags.append(f | TRUNCATED)
            nbytes += len(data)
            self._discarding = True
        else:
            self._pending = data
        return texts, (flags if any(flags) else None), nbytes

    def finish(self) -> Lines:
        """End of the stream: a last line without a newline is still a line."""
        data, self._pending, self._discarding = self._pending, b"", False
        if not data:
            return [], None, 0
        n = len(data)
        if data.endswith(b"\r"):
            data = data[:-1]
        text, f = clean_line(data, self.max_line_bytes)
        return [text], ([f] if f else None), n

    def drop_pending(self) -> int:
        """Forget the unfinished line (the log cap was reached); returns its size."""
        n, self._pending = len(self._pending), b""
        return n

    def _lines(self, body: bytes, texts: list[str], flags: list[int]) -> None:
        """Complete lines joined by \\n (without the last newline) → texts and flags."""
        if b"\r" in body:
            body = body.replace(b"\r\n", b"\n")
            if body.endswith(b"\r"):
                body = body[:-1]
        limit = self.max_line_bytes
        if _SPECIAL.search(body) is None and (
            len(body) <= limit or max(map(len, body.split(b"\n"))) <= limit
        ):
            try:
                decoded = body.decode("utf-8")
            except UnicodeDecodeError:
                decoded = None
            if decoded is not None and (decoded.isascii()
                                        or _UNSAFE_IN_BODY.search(decoded) is None):
                lines = decoded.split("\n")
                texts.extend(lines)
                flags.extend([0] * len(lines))
                return
        for raw in body.split(b"\n"):
            text, f = clean_line(raw, limit)
            texts.append(text)
            flags.append(f)


@dataclass(slots=True)
class Block:
    """Consecutive lines of one stream from one read, numbered from first_seq."""

    first_seq: int
    stream: str  # "out" | "err" | "sys"
    at: str
    texts: list[str]
    flags: list[int] | None  # None: every flag is 0
    bytes_after: int = 0  # LogBuffer.bytes once this block was added

    @property
    def last_seq(self) -> int:
        return self.first_seq + len(self.texts) - 1


class LogBuffer:
    """Both output streams of one run → numbered blocks of lines, within a size cap.

    `max_log_bytes` caps the raw output kept: once a line would go past it,
    that line and everything after it on either stream is dropped and counted
    in `dropped_bytes`. `bytes` counts raw bytes of stored lines (line endings
    and the discarded tails of over-long lines included); once every stream is
    closed, bytes + dropped_bytes is the total output. A cap <= 0 means no cap.
    System lines (stream "sys") are the runner's own and are neither capped
    nor counted.
    """

    def __init__(self, max_log_bytes: int, *, first_seq: int = 1,
                 max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.max_log_bytes = max_log_bytes if max_log_bytes > 0 else None
        self.next_seq = first_seq
        self.bytes = 0
        self.dropped_bytes = 0
        self.capped = False
        self.refused_from: int | None = None  # the first line the store refused (refuse())
        self.pending_lines = 0
        self._consumed = 0  # raw bytes accepted, including unfinished lines
        self._blocks: list[Block] = []
        self._splitters = {s: LineSplitter(max_line_bytes) for s in ("out", "err")}

    @property
    def lines(self) -> int:
        """Lines numbered so far (the last sequence number given out)."""
        return self.next_seq - 1

    def feed(self, stream: str, data: bytes, at: str) -> None:
        if not data:
            return
        if self.capped or self.refused_from is not None:
            self.dropped_bytes += len(data)
            return
        if self.max_log_bytes is not None:
            room = self.max_log_bytes - self._consumed
            if len(data) > room:
                fits = data.rfind(b"\n", 0, max(room, 0)) + 1
                if fits:
                    self._feed(stream, data[:fits], at)
                self._cap(len(data) - fits)
                return
        self._feed(stream, data, at)

    def close(self, stream: str, at: str) -> None:
        """End of one stream: store its last unfinished line."""
        texts, flags, nbytes = self._splitters[stream].finish()
        self.bytes += nbytes
        self._add(stream, at, texts, flags)

    def sys(self, text: str, at: str) -> None:
        clean, f = clean_line(text.encode("utf-8", "replace"))
        self._add("sys", at, [clean], [f] if f else None)

    def cap_note(self) -> str | None:
        """The line that says what the cap dropped, once output is over."""
        if not self.capped:
            return None
        return (f"log limit of {_size(self.max_log_bytes or 0)} reached: "
                f"{self.dropped_bytes} bytes of output not stored ({_size(self.dropped_bytes)})")

    def refuse(self, unwritten: list[Block], stored_bytes: int) -> int:
        """The store cannot take more of the log (its disk is full): forget the output
        lines not stored (`unwritten`, taken but not written, and those pending), keep
        the runner's own lines (renumbered after what is stored), and from now on count
        the output instead of keeping it. `stored_bytes` is `bytes` as last stored.
        Returns the first line the store refused."""
        blocks = unwritten + self._blocks
        first = blocks[0].first_seq if blocks else self.next_seq
        if self.refused_from is None:
            self.refused_from = first
        kept = [b for b in blocks if b.stream == "sys"]
        self.next_seq = first
        for b in kept:
            b.first_seq, b.bytes_after = self.next_seq, stored_bytes
            self.next_seq += len(b.texts)
        self._blocks = kept
        self.pending_lines = sum(len(b.texts) for b in kept)
        held = sum(s.drop_pending() for s in self._splitters.values())
        self.dropped_bytes += self.bytes - stored_bytes + held
        self.bytes = stored_bytes
        return self.refused_from

    def refusal_note(self, error: str) -> str | None:
        """What the store refused, once output is over (None: it refused nothing)."""
        if self.refused_from is None:
            return None
        return (f"the store refused the log from line {self.refused_from} on ({error}): "
                f"{self.dropped_bytes} bytes of output ({_size(self.dropped_bytes)}) not "
                "stored")

    def take(self, max_lines: int | None = None) -> list[Block]:
        """Blocks not yet taken, oldest first: all of them, or whole blocks up to about
        `max_lines` lines (at least one block)."""
        if max_lines is None or self.pending_lines <= max_lines:
            blocks, self._blocks = self._blocks, []
            self.pending_lines = 0
            return blocks
        n = count = 0
        while n < len(self._blocks) and (n == 0 or count + len(self._blocks[n].texts) <= max_lines):
            count += len(self._blocks[n].texts)
            n += 1
        blocks, self._blocks = self._blocks[:n], self._blocks[n:]
        self.pending_lines -= count
        return blocks

    def untake(self, blocks: list[Block]) -> None:
        """Put back blocks that could not be written, to try again."""
        if blocks:
            self._blocks[:0] = blocks
            self.pending_lines += sum(len(b.texts) for b in blocks)

    def _feed(self, stream: str, data: bytes, at: str) -> None:
        self._consumed += len(data)
        texts, flags, nbytes = self._splitters[stream].feed(data)
        self.bytes += nbytes
        self._add(stream, at, texts, flags)

    def _cap(self, extra: int) -> None:
        held = sum(s.drop_pending() for s in self._splitters.values())
        self._consumed -= held
        self.dropped_bytes += extra + held
        self.capped = True

    def _add(self, stream: str, at: str, texts: list[str], flags: list[int] | None) -> None:
        if not texts:
            return
        self._blocks.append(Block(self.next_seq, stream, at, texts, flags, self.bytes))
        self.next_seq += len(texts)
        self.pending_lines += len(texts)


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
