"""A footer that shows and hides the keys it has, instead of rebuilding itself.

Textual's Footer recomposes on every change of the screen's bindings: every key
unmounted, mounted and styled again (15–40 ms on a loaded machine). In the history
browser the focus moves between the search box (which takes the printable keys, so `?`,
`e`, `[` and `]` leave the footer) and the results (they come back) on every search.
When the keys wanted are some of the keys it has, in the same order (the usual case:
the same screen, another focus), KeysFooter hides the others and updates which are
enabled, in place; it looks exactly as a rebuilt footer would (tests/tui/test_footer.py).
Anything else (keys it does not have, groups) rebuilds it as Footer does.
"""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeysFooter(Footer):
    def bindings_changed(self, screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._show_keys)

    def _wanted(self) -> list[tuple] | None:
        """(key, key display, description, action, enabled, tooltip) of each key the
        footer should show, in its order; None if Footer would group any."""
        by_action: dict[str, tuple] = {}
        for _, binding, enabled, tooltip in self.screen.active_bindings.values():
            if not binding.show:
                continue
            if binding.group is not None:
                return None
            by_action.setdefault(binding.action, (
                binding.key, self.app.get_key_display(binding), binding.description,
                binding.action, enabled, tooltip))
        return list(by_action.values())

    async def _show_keys(self) -> None:
        if not self.is_attached:
            return
        wanted = self._wanted()
        keys = [k for k in self.query_children(FooterKey)
                if not k.has_class("-command-palette")]
        if wanted is None or not keys or not _in_order(
                [w[:4] for w in wanted], [_identity(k) for k in keys]):
            await self.recompose()  # (as Footer does)
            return
        shown = {w[:4]: w for w in wanted}
        for key in keys:
            want = shown.get(_identity(key))
            key.display = want is not None
            if want is not None:
                disabled = not want[4]
                if disabled != key._disabled:
                    key._disabled = disabled
                    key.set_class(disabled, "-disabled")
                key.tooltip = want[5] or None
        self.styles.grid_size_columns = len(wanted)


def _identity(key: FooterKey) -> tuple:
    return (key.key, key.key_display, key.description, key.action)


def _in_order(wanted: list, have: list) -> bool:
    """Whether `wanted` is `have` with some left out (the same order)."""
    rest = iter(have)
    return all(any(w == h for h in rest) for w in wanted)
