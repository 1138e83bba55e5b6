"""The key bar: what Textual's Footer shows, drawn by one widget.

Textual's Footer mounts a widget per key (a dozen on the dashboard), each styled,
laid out and rendered on its own, and mounts them all again whenever the keys change:
that was a good part of the console's first frame and of every rebuild after it. This
footer draws the same line itself, cell for cell (tests/tui/test_layout.py compares
the two): the keys the screen shows, in its order, an unavailable one dimmed, the
command palette's key on the right. A click on a key presses it (an unavailable one
rings the bell, as Textual's does); the key under the mouse is highlighted and its
tooltip (why it is unavailable) shown. What no longer fits the width is cut, as
Textual's footer shows it without scrolling.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.app import ComposeResult
from textual.strip import Strip
from textual.widgets import Footer

__all__ = ["KeyFooter"]


@dataclass(frozen=True)
class _Key:
    """One key the footer shows, as drawn."""

    key: str
    display: str
    description: str
    enabled: bool
    tooltip: str


class KeyFooter(Footer):
    COMPONENT_CLASSES = {"footer-key--key", "footer-key--description",
                         "footer-key--border", "footer-key--hover"}
    DEFAULT_CSS = """
    KeyFooter {
        .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .footer-key--border { color: $foreground 20%; }
        .footer-key--hover {
            color: $footer-key-foreground;
            background: $block-hover-background;
        }
    }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._keys: list[_Key] = []
        self._palette: _Key | None = None
        self._hover: str | None = None

    def compose(self) -> ComposeResult:
        return iter(())  # no widget per key: render_line draws them

    # -- what it shows ----------------------------------------------------------------
    def bindings_changed(self, screen) -> None:
        # Textual's Footer skips this while the app has no focus (a browser tab that never
        # took it, with `hotfix serve`) and then may never show a key: collecting them is
        # cheap here, so the keys are always the screen's
        self._bindings_ready = True
        if self.is_attached and screen is self.screen:
            self._collect()
            self.refresh()

    def on_mount(self) -> None:
        super().on_mount()
        if self._bindings_ready:
            self._collect()

    def _collect(self) -> None:
        """The keys as Textual's Footer takes them: one per action, in binding order;
        the command palette's key apart."""
        active = self.screen.active_bindings
        by_action: dict[str, _Key] = {}
        app = self.app
        for _node, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in by_action:
                by_action[binding.action] = _Key(binding.key, app.get_key_display(binding),
                                                 binding.description, enabled, tooltip)
        self._keys = list(by_action.values())
        self._palette = None
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            found = active.get(app.COMMAND_PALETTE_BINDING)
            if found is not None:
                _node, binding, enabled, _tooltip = found
                self._palette = _Key(binding.key, app.get_key_display(binding),
                                     binding.description, enabled,
                                     binding.tooltip or binding.description)
        self._sync_tooltip()

    # -- drawing ----------------------------------------------------------------------
    def _styles(self, key: _Key) -> tuple[Style, Style]:
        base = self.rich_style + (Style(dim=True) if not key.enabled else Style())
        if key.key == self._hover:
            base += self.get_component_rich_style("footer-key--hover")
        meta = Style.from_meta({"footer_key": key.key})
        return (base + self.get_component_rich_style("footer-key--key") + meta,
                base + self.get_component_rich_style("footer-key--description") + meta)

    def _key_segments(self, key: _Key) -> list[Segment]:
        key_style, description_style = self._styles(key)
        if not key.description:
            return [Segment(key.display, key_style)]
        return [Segment(f" {key.display} ", key_style),
                Segment(f"{key.description} ", description_style)]

    def _palette_segments(self, key: _Key) -> list[Segment]:
        """Docked right like Textual's: a thin rule, the key, its description, a space."""
        key_style, description_style = self._styles(key)
        rule = self.rich_style + Style.from_color(
            self.get_component_rich_style("footer-key--border").color)
        return [Segment("▏", rule), Segment(key.display, key_style),
                Segment(f" {key.description}", description_style),
                Segment(" ", self._blank + Style.from_meta({"footer_key": key.key}))]

    @property
    def _blank(self) -> Style:
        """What is left of the line, and a docked key's padding: the background only."""
        return Style(bgcolor=self.rich_style.bgcolor)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        right = self._palette_segments(self._palette) if self._palette else []
        room = max(0, width - Segment.get_line_length(right))
        left = [s for k in (self._keys if self._bindings_ready else ()) for s in
                self._key_segments(k)]
        line = Segment.adjust_line_length(left, room, style=self._blank, pad=True)
        return Strip(line + right, width).crop(0, width)

    # -- the mouse --------------------------------------------------------------------
    def _key_at(self, event: events.MouseEvent) -> _Key | None:
        name = (event.style.meta or {}).get("footer_key") if event.style else None
        keys = [*self._keys, *([self._palette] if self._palette else [])]
        return next((k for k in keys if k.key == name), None)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        key = self._key_at(event)
        if key is None:
            return
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self._key_at(event)
        hover = key.key if key is not None else None
        if hover != self._hover:
            self._hover = hover
            self._sync_tooltip()
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self._sync_tooltip()
            self.refresh()

    def _sync_tooltip(self) -> None:
        keys = [*self._keys, *([self._palette] if self._palette else [])]
        key = next((k for k in keys if k.key == self._hover), None)
        self.tooltip = key.tooltip if key is not None and key.tooltip else None
