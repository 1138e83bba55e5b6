"""What a console that runs for a whole incident keeps in memory (bench P3, P3k;
bench/NOTES.md). When the garbage collector runs is collector.py's business.

- Textual's `StylesCache.get_inner_outer` is an `lru_cache` on a method, so its key holds
  the widget's whole StylesCache, with every line the widget drew, after the widget is
  gone (Textualize/textual#6665, open). Each help opened and closed left 8 of them; a
  console's toasts, dialogs and screens piled up to 1 024, hundreds of thousands of
  objects. `forget_removed_widgets` empties that cache (it is recomputed on demand).
"""

from __future__ import annotations

try:  # a private module: a Textual without it (or with the bug fixed) needs nothing here
    from textual._styles_cache import StylesCache

    _clear = getattr(StylesCache.get_inner_outer, "cache_clear", None)
except ImportError:  # pragma: no cover
    _clear = None


def forget_removed_widgets() -> None:
    """Let the collector have the drawn lines of widgets that were removed."""
    if _clear is not None:
        _clear()
