"""Running a blocking preparation off the event loop, then continuing on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...core.errors import HotfixError


def in_thread(screen, fn: Callable[[], Any], then: Callable[[Any], None]) -> None:
    """Run `fn` in a worker, then `then(result)` on the event loop; a refusal or an error
    is a notification on `screen`. `then` usually opens a dialog: keys typed meanwhile
    wait for it (typeahead.py)."""
    app = screen.app
    hold = screen.hold("preparing")

    def finish(callback: Callable[..., Any], *args: Any, **kw: Any) -> None:
        try:
            callback(*args, **kw)
        finally:
            hold.release()

    def runner() -> None:
        try:
            data = fn()
        except HotfixError as exc:
            app.call_from_thread(finish, screen.notify, str(exc), severity="error",
                                 title="Not possible")
            return
        except Exception as exc:
            app.call_from_thread(finish, screen.notify, f"{type(exc).__name__}: {exc}",
                                 severity="error")
            return
        app.call_from_thread(finish, then, data)

    screen.run_worker(runner, thread=True, group="prepare", exit_on_error=False)
