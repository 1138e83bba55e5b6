"""`esc` and the next key, typed faster than a terminal can tell them apart.

A terminal sends `esc` as ESC, and alt+<key> as ESC followed by the key, so `esc` then
`q` typed quickly (or pasted, or sent in one write over a slow link) reads as alt+q,
which the console does not bind: the `q` was lost, and `esc` then `f` read as
ctrl+right, `esc` then `2` as `™`. The console binds no alt key, so ESC followed by a
printable character is what the user typed: `esc`, then that character. Escape
sequences (arrows, function keys, mouse, paste: ESC then `[`, `O`, `P`, `]`, `_`, `^`)
are read as before.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import constants, events
from textual._xterm_parser import XTermParser

INTRODUCERS = frozenset("[O]P_^")


class EscapeFirstParser(XTermParser):
    def _sequence_to_key_events(self, sequence: str, alt: bool = False
                                ) -> Iterable[events.Key]:
        if (len(sequence) == 2 and sequence[0] == "\x1b" and sequence[1].isprintable()
                and sequence[1] not in INTRODUCERS):
            yield events.Key("escape", "\x1b")
            yield from super()._sequence_to_key_events(sequence[1])
            return
        yield from super()._sequence_to_key_events(sequence, alt)


def install() -> None:
    """Read the terminal (and a browser's terminal, hotfix serve) with EscapeFirstParser.
    Textual's drivers name their parser at module level; only this process's console
    reads keys through them. The browser's driver is loaded only where Textual will use
    it (textual-serve names it in TEXTUAL_DRIVER), not in every console."""
    from textual.drivers import linux_driver

    linux_driver.XTermParser = EscapeFirstParser  # type: ignore[misc]
    if "web_driver" not in (constants.DRIVER or ""):
        return
    try:
        from textual.drivers import web_driver
    except ImportError:  # pragma: no cover - not every platform has it
        return
    web_driver.XTermParser = EscapeFirstParser  # type: ignore[misc]
