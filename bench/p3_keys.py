"""P3: key press → visible effect in the deploy pane while a flood of output is shown live.

A real runner runs a command that prints lines as fast as it can (P2's flood, made
endless so it outlasts the presses; cancelled afterwards through the real cancel
path). The console (in this process, through Pilot) shows its DeployScreen. Each
press is timed from just before Pilot sends it to the end of the first frame that
shows its effect: the LogView's scroll position and follow state reflect the key,
and every line on screen has been read from the database (no "…" placeholders).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from pathlib import Path

from common import SIZE, median, percentile, visible_loaded
from p2_runner import ENDLESS, start_run
from textual import events

from hotfix_tui import services
from hotfix_tui.clock import iso, utcnow
from hotfix_tui.core.errors import HotfixError
from hotfix_tui.core.models import Actor
from hotfix_tui.deploy.runner import request_cancel, spawn, wait_finished
from hotfix_tui.store import open_store

# Every key has a visible effect from the state the previous one leaves.
CYCLE = ["end", "k", "k", "j", "pageup", "pageup", "pagedown", "home", "j", "pagedown",
         "pagedown"]
ACTIONS = {"k": "scroll_up", "j": "scroll_down", "pageup": "page_up", "pagedown": "page_down",
           "home": "scroll_home", "end": "follow"}
TIMEOUT = 5.0


class Probe:
    """Wraps the LogView's actions and the screen's compositor refresh on the instances."""

    def __init__(self, screen, log) -> None:
        self.log = log
        self.expect: str | None = None
        self.y_before = 0.0
        self.ran = False
        self.ran_at: float | None = None  # the action ran (the key reached the LogView)
        self.moved_at: float | None = None  # a frame showed the new position, lines or not
        self.effect_at: float | None = None
        self.calls: list = []
        for name in set(ACTIONS.values()):
            self._wrap_action(name)
        refresh = screen._compositor_refresh

        def refresh_and_look() -> None:
            refresh()
            if self.ran and self.effect_at is None and self._moved():
                now = time.perf_counter()
                if self.moved_at is None:
                    self.moved_at = now
                if visible_loaded(self.log):
                    self.effect_at = now

        screen._compositor_refresh = refresh_and_look
        self.keys_at_log = 0  # Key events the LogView was sent (to tell lost from slow)
        post = log.post_message

        def count_keys(message) -> bool:
            if isinstance(message, events.Key):
                self.keys_at_log += 1
            return post(message)

        log.post_message = count_keys

    def _wrap_action(self, name: str) -> None:
        original = getattr(self.log, f"action_{name}")

        def wrapped() -> None:
            self.calls.append((time.perf_counter(), name))
            if name == self.expect and not self.ran:
                self.y_before = self.log.scroll_y
                self.ran = True
                self.ran_at = time.perf_counter()
            original()

        setattr(self.log, f"action_{name}", wrapped)

    def arm(self, action: str) -> None:
        self.expect, self.ran = action, False
        self.ran_at = self.moved_at = self.effect_at = None

    def _moved(self) -> bool:
        log, y, before = self.log, self.log.scroll_y, self.y_before
        ok = {
            "scroll_up": not log.follow and y < before,
            "page_up": not log.follow and y < before,
            "scroll_down": y > before,
            "page_down": y > before,
            "scroll_home": not log.follow and y == 0,
            "follow": log.follow and y >= log.max_scroll_y - 0.5,
        }[self.expect]
        return ok


async def _drive(ctx, key: str, presses: int) -> tuple[list[float], list[int]]:
    from hotfix_tui.tui.app import HotfixApp
    from hotfix_tui.tui.screens.deploy import DeployScreen
    from hotfix_tui.tui.widgets.logview import LogView

    app = HotfixApp(ctx, start_screen=DeployScreen(key))
    latencies: list[float] = []
    phases: list[tuple[float, float]] = []  # (key → action ran, key → position shown), ms
    totals: list[int] = []
    async with app.run_test(size=SIZE) as pilot:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            screen = app.screen
            if isinstance(screen, DeployScreen) and screen.run is not None:
                log = screen.query_one(LogView)
                if log.total > 2 * log.scrollable_content_region.height and visible_loaded(log):
                    break
            await pilot.pause(0.02)
        else:
            raise RuntimeError("the deploy pane never showed the flood")
        probe = Probe(screen, log)
        for i in range(presses):
            k = CYCLE[i % len(CYCLE)]
            probe.arm(ACTIONS[k])
            totals.append(log.total)
            started = time.perf_counter()
            # Pilot.press sends the key, then waits until every widget has handled what
            # was queued; under a flood that wait can outlast the effect by seconds (a
            # Pilot artefact, not something the user sees), so it runs as a task that is
            # dropped once the effect is on screen.
            press = asyncio.create_task(pilot.press(k))
            while probe.effect_at is None and time.perf_counter() - started < TIMEOUT:
                await asyncio.sleep(0.0005)
            if not press.done():
                press.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await press
            end = probe.effect_at if probe.effect_at is not None else time.perf_counter()
            latencies.append(end - started)
            phases.append(tuple(round(((t or end) - started) * 1000, 2)
                                for t in (probe.ran_at, probe.moved_at)))
            if probe.effect_at is None:
                print(f"P3: no effect of {k!r} after {TIMEOUT}s: y {log.scroll_y} (was "
                      f"{probe.y_before}), follow {log.follow}, max {log.max_scroll_y}, ran "
                      f"{probe.ran}, lines loaded {visible_loaded(log)}, focus "
                      f"{app.focused!r}, screen {app.screen!r}, press #{i}, keys at the LogView "
                      f"{probe.keys_at_log}, calls "
                      f"{[(round((t - started) * 1000, 1), n) for t, n in probe.calls[-8:]]}",
                      file=sys.stderr)
        totals.append(log.total)
    return latencies, phases, totals


def measure(work: Path, repo: Path, presses: int) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    db = work / "p3.db"
    ctx = services.open_context(repo=repo, db=db)
    # The flood never ends by itself: it is cancelled below whatever happens, and the
    # runner's own timeout stops it should this process die first.
    deploy_id = start_run(db, [sys.executable, "-c", ENDLESS], work, env="staging",
                          max_log_bytes=8 << 30, timeout_s=300)
    spawn(db, deploy_id)
    still = None
    try:
        t0 = time.monotonic()
        latencies, phases, totals = asyncio.run(_drive(ctx, f"D-{deploy_id}", presses))
        driven = time.monotonic() - t0
    finally:
        store = open_store(db)
        try:
            still = store.scalar("SELECT status FROM deploys WHERE id = ?", (deploy_id,))
            with contextlib.suppress(HotfixError):  # already over
                request_cancel(store, deploy_id, Actor("bench", True), iso(utcnow()))
        finally:
            store.close()
        run = wait_finished(db, deploy_id, timeout=120)
    ms = [x * 1000 for x in latencies]
    return {
        "median_ms": median(ms), "p99_ms": percentile(ms, 99), "max_ms": max(ms),
        "presses": len(ms), "timeouts": sum(1 for x in latencies if x >= TIMEOUT),
        "lines_at_first": totals[0], "lines_at_last": totals[-1],
        "running_throughout": still == "running", "final_status": str(run.status),
        "latencies_ms": ms, "phases_ms": phases, "seconds": driven,
        "keys": [CYCLE[i % len(CYCLE)] for i in range(len(ms))],
    }
