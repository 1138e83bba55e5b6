"""Type-ahead: keys typed while the console changes screen or focus go where it is going.

Textual hands a key to whatever has focus when the key arrives; the key's effect (a
binding that moves focus, opens a screen, submits a field) happens later, when the
widgets get to it. Keys typed in one burst (a paste, a fast typist, a loaded bastion)
would go to the old focus: text filed under the wrong field, a `tab` lost.

So the app lets one key (or paste) through at a time. The next waits until the
console is quiet again (every message of the screen and the app handled, every widget
mounted), and until every *hold* is released: a hold is taken by work that will change
the screen when it ends (preparing a confirmation in a thread, starting a run, a
screen's first load), so that keys typed meanwhile reach the screen that work opens.
Nothing here depends on how fast anything is; the limits below only keep a broken
screen from swallowing keys for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import TYPE_CHECKING

from textual import events

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump

# Keys that are never queued: leaving must always work.
IMMEDIATE = frozenset({"ctrl+q", "ctrl+c"})
# Safety limits (seconds), never reached by a working screen: a hold that is never
# released, and a screen that never becomes quiet.
HOLD_LIMIT = 30.0
QUIET_LIMIT = 10.0


class Hold:
    """Keys wait while this is held. `release()` is idempotent."""

    def __init__(self, gate: TypeAhead, why: str) -> None:
        self.gate = gate
        self.why = why
        self.since = time.monotonic()
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.gate._released(self)


class TypeAhead:
    """The app's key gate (see the module's docstring)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.queue: deque[events.Event] = deque()
        self.holds: list[Hold] = []
        self.in_flight = False
        self._changed = asyncio.Event()
        self._task: asyncio.Task | None = None

    # -- what the app asks -------------------------------------------------------------
    def intercept(self, event: events.Event) -> bool:
        """Called for every event the app receives; True when the event was queued and
        must not be dispatched now."""
        if not isinstance(event, events.Key | events.Paste) or event.is_forwarded:
            return False
        if getattr(event, "_typeahead_released", False):
            return False  # its turn: the pump is already waiting for it to settle
        if isinstance(event, events.Key) and event.key in IMMEDIATE:
            return False
        if self.in_flight or self.holds or self.queue:
            self.queue.append(event)
            self._start()
            return True
        self.in_flight = True
        self._start()
        return False

    def hold(self, why: str) -> Hold:
        """Keys wait until the returned hold is released (or HOLD_LIMIT passes)."""
        hold = Hold(self, why)
        self.holds.append(hold)
        return hold

    @property
    def busy(self) -> bool:
        return bool(self.in_flight or self.holds or self.queue)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    # -- the pump ------------------------------------------------------------------------
    def _released(self, hold: Hold) -> None:
        with contextlib.suppress(ValueError):
            self.holds.remove(hold)
        self._changed.set()
        if self.queue or self.in_flight:
            self._start()

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        while True:
            await self._quiet()
            await self._unheld()
            if not self.queue:
                self.in_flight = False
                return
            event = self.queue.popleft()
            event._typeahead_released = True  # type: ignore[attr-defined]
            self.in_flight = True
            self.app.post_message(event)

    async def _unheld(self) -> None:
        """Wait until no hold is left (a hold older than HOLD_LIMIT is dropped)."""
        while self.holds:
            now = time.monotonic()
            for hold in [h for h in self.holds if now - h.since > HOLD_LIMIT]:
                hold.release()
            if not self.holds:
                break
            self._changed.clear()
            oldest = min(h.since for h in self.holds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(),
                                       max(0.01, oldest + HOLD_LIMIT - now))
            await self._quiet()  # what the released work started (a screen) settles too

    async def _quiet(self) -> None:
        """Wait until the app and every widget of its screen have handled every message
        they were sent and are mounted: the last key has had its whole effect."""
        deadline = time.monotonic() + QUIET_LIMIT
        spins = 0
        while time.monotonic() < deadline:
            if self._is_quiet():
                # and still quiet once everything else that was ready has run
                await asyncio.sleep(0)
                if self._is_quiet():
                    return
            spins += 1
            await asyncio.sleep(0 if spins < 20 else 0.002)

    def _is_quiet(self) -> bool:
        app = self.app
        try:
            pumps = [app, *app.screen.walk_children(with_self=True)]
        except Exception:  # no screen yet (starting) or none left (closing)
            return not app.is_running
        return all(_idle(p) for p in pumps)


def _idle(pump: MessagePump) -> bool:
    if not pump.is_running and not pump.is_attached:
        return True  # removed meanwhile: nothing of it is pending
    if not pump._is_mounted:
        return False
    queue = pump._message_queue
    return (queue.empty() and not getattr(queue, "_unfinished_tasks", 0)
            and pump._pending_message is None and not pump._next_callbacks)
