"""Python's cyclic garbage collector runs between keys, not in the middle of one.

Left to itself the collector runs whenever enough objects were allocated, so in the
middle of whatever allocates: drawing a screen, applying a search's rows. On a loaded
2-core bastion a full collection of the console's heap took 100–370 ms and its young
collections 5–40 ms, added to whichever key was being handled (bench/NOTES.md, P4).

Once the first screen shows its data, what start-up made (modules, classes, styles, the
first screen: ~80 000 objects that live as long as the console) is frozen out of the
collector's view (`gc.freeze`; reference counting still frees them, only cycles among
them are not looked for), so no full collection walks them again, and automatic
collection stops. Instead a timer collects
the young generations when no key is being handled (the key gate is idle), and
everything every FULL_EVERY seconds; a console kept busy without a pause still collects
once FORCE_AFTER objects have piled up, so memory stays bounded.
Closing the console gives the process its collector back as it was.
"""

from __future__ import annotations

import gc
import time

TICK = 0.25  # s between looks
YOUNG = 5_000  # net allocations that make an idle look collect the young generations
FULL_EVERY = 30.0  # s between full collections (when idle)
FORCE_AFTER = 200_000  # net allocations after which a look collects even mid-key


class IdleCollector:
    def __init__(self, app) -> None:
        self.app = app
        self.running = False
        self.was_enabled = True
        self.last_full = 0.0
        self.collections = 0  # (what tests look at)

    def start(self) -> None:
        """From now on collect only between keys (idempotent)."""
        if self.running:
            return
        self.running = True
        self.was_enabled = gc.isenabled()
        gc.freeze()
        gc.disable()
        self.last_full = time.monotonic()
        self.app.set_interval(TICK, self.tick, name="collector")

    def tick(self) -> None:
        if not self.running:
            return
        pending = gc.get_count()[0]
        if self.app.typeahead.busy and pending < FORCE_AFTER:
            return  # a key is being handled: its frame first
        now = time.monotonic()
        if now - self.last_full >= FULL_EVERY:
            gc.collect()
            self.last_full = now
        elif pending >= YOUNG:
            gc.collect(1)
        else:
            return
        self.collections += 1

    def stop(self) -> None:
        if not self.running:
            return
        self.running = False
        gc.unfreeze()
        if self.was_enabled:
            gc.enable()
