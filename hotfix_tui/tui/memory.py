"""What a console that runs for a whole incident keeps in memory, and how long the garbage
collector's full passes stop it.

Two things, both measured from outside (bench P3, P3k; bench/NOTES.md):

- Textual's `StylesCache.get_inner_outer` is an `lru_cache` on a method, so its key holds
  the widget's whole StylesCache, with every line the widget drew, after the widget is
  gone (Textualize/textual#6665, open). Each help opened and closed left 8 of them; a
  console's toasts, dialogs and screens piled up to 1 024, hundreds of thousands of
  objects. `forget_removed_widgets` empties that cache (it is recomputed on demand).
- A full collection walks every object the console has, and the start-up made most of
  them: modules, classes, styles, the first screen. `settle` moves those out of the
  collector's reach once the first screen shows its data, until the console closes;
  what is made meanwhile is collected as before.
"""

from __future__ import annotations

import gc

try:  # a private module: a Textual without it (or with the bug fixed) needs nothing here
    from textual._styles_cache import StylesCache

    _clear = getattr(StylesCache.get_inner_outer, "cache_clear", None)
except ImportError:  # pragma: no cover
    _clear = None


def forget_removed_widgets() -> None:
    """Let the collector have the drawn lines of widgets that were removed."""
    if _clear is not None:
        _clear()


def settle() -> None:
    """The objects alive now are the console's own, for as long as it runs: leave them
    out of every later collection (no collection first: that would stop the console as
    long as the passes this avoids; what garbage is pending stays until `unsettle`)."""
    gc.freeze()


def unsettle() -> None:
    """The console is closing: its objects are ordinary garbage again (a process that
    goes on, such as a test run, collects them)."""
    gc.unfreeze()
