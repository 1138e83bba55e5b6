"""Textual's Footer, each key styled once.

A FooterKey starts with `compact` True (its default) and the Footer's own `compact`
(False) is bound to it once mounted: the class `-compact` goes on, then off again, and
each change restyles the key. With a dozen keys that was a good part of the console's
first frame. Here each key starts with the value it will end with, so the binding
changes nothing and the key is styled once, when it is mounted. What the footer shows is
unchanged.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

__all__ = ["KeyFooter"]


class KeyFooter(Footer):
    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # the command palette's key is not bound to the footer: it keeps the default
                compact = True if widget.has_class("-command-palette") else self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget
