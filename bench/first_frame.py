"""Start a console headless, and leave right after its first frame with data (P1, P6).

    python bench/first_frame.py hotfix --repo R --db D     `hotfix tui` (dashboard)
    python bench/first_frame.py deploy --repo R --db D --run D-7   the deploy pane on a run
    python bench/first_frame.py bare                       the baseline: Header, 50-row
                                                           DataTable, Footer

"First frame with data" is the same for all three: a worker fetches the screen's
data and posts it; the screen applies it; the frame after that has been composed
(headless: rendered to strips, not written to a terminal). For the deploy pane
the log lines on screen must have arrived too. Then the driver prints one JSON
line (the monotonic time of that frame and VmHWM so far) and leaves with os._exit,
so no shutdown work is counted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _hwm_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


PROFILER = None  # a pyinstrument Profiler with --profile (an optional tool, not needed)
PROFILE_OUT = ""
# Show Textual's and our frames (pyinstrument hides library frames by default), and drop
# whatever took under 2% of the time.
PROFILE_OPTIONS = {"show_regex": r".*(textual|hotfix_tui|rich|sqlite).*", "filter_threshold": 0.02}


def done() -> None:
    frame_at = time.monotonic()
    if PROFILER is not None:
        PROFILER.stop()
        with open(PROFILE_OUT, "w") as f:
            f.write(PROFILER.output_text(unicode=True, color=False,
                                         processor_options=PROFILE_OPTIONS))
    print(json.dumps({"frame_at": frame_at, "hwm_kib": _hwm_kib()}), flush=True)
    os._exit(0)


def run_hotfix(repo: str, db: str, size: tuple[int, int]) -> None:
    """Exactly what `hotfix tui` runs (click entry point included), but headless."""
    from hotfix_tui.tui.app import HotfixApp
    from hotfix_tui.tui.screens.dashboard import DashboardScreen

    show = DashboardScreen.show

    def show_then_leave(self, data) -> None:
        show(self, data)
        self.call_after_refresh(done)

    DashboardScreen.show = show_then_leave
    run = HotfixApp.run
    HotfixApp.run = lambda self, **kw: run(self, headless=True, size=size)
    from hotfix_tui.cli import main

    main(["--repo", repo, "--db", db, "tui"])
    raise SystemExit("the console exited before its first frame with data")


def run_deploy(repo: str, db: str, key: str, size: tuple[int, int]) -> None:
    """The console opened on the deploy pane of run `key`."""
    from hotfix_tui import services
    from hotfix_tui.tui.app import HotfixApp
    from hotfix_tui.tui.screens.deploy import DeployScreen
    from hotfix_tui.tui.widgets.logview import LogView

    def ready(log: LogView) -> bool:
        from common import visible_loaded

        return log.total > 0 and visible_loaded(log)

    armed = []

    def check(log: LogView) -> None:
        if not armed and ready(log):
            armed.append(True)
            log.screen.call_after_refresh(done)

    show = DeployScreen.show

    def show_then_check(self, data) -> None:
        show(self, data)
        check(self.query_one(LogView))

    loaded = LogView._loaded

    def loaded_then_check(self, index, lines) -> None:
        loaded(self, index, lines)
        check(self)

    DeployScreen.show = show_then_check
    LogView._loaded = loaded_then_check
    ctx = services.open_context(repo=repo, db=db)
    HotfixApp(ctx, start_screen=DeployScreen(key)).run(headless=True, size=size)
    raise SystemExit("the console exited before its first frame with data")


def run_bare(size: tuple[int, int]) -> None:
    from bare_app import BareApp

    BareApp(on_first_frame=done).run(headless=True, size=size)
    raise SystemExit("the bare app exited before its first frame with data")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["hotfix", "deploy", "bare"])
    p.add_argument("--repo")
    p.add_argument("--db")
    p.add_argument("--run")
    p.add_argument("--size", default="120x40")
    p.add_argument("--profile", metavar="OUT", help="write a pyinstrument profile to OUT")
    a = p.parse_args()
    if a.profile:
        global PROFILER, PROFILE_OUT
        from pyinstrument import Profiler

        PROFILER = Profiler(interval=0.0005, async_mode="disabled")
        PROFILE_OUT = a.profile
        PROFILER.start()
    w, h = (int(x) for x in a.size.split("x"))
    if a.mode == "hotfix":
        run_hotfix(a.repo, a.db, (w, h))
    elif a.mode == "deploy":
        run_deploy(a.repo, a.db, a.run, (w, h))
    else:
        run_bare((w, h))


if __name__ == "__main__":
    sys.exit(main())
