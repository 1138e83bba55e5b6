"""P3 live: keys as a user feels them, in a real terminal (tmux, 80x24), idle and while a
deploy floods its log, against a bare Textual app in the same terminal at the same time.

- **help round trip**: `?` until the help modal is on screen, then `esc` until it is gone;
  on the dashboard of `hotfix` (the real executable, on the big database) and on the
  bare app (`bare_app.BareTerminalApp`: a DataTable and a help modal of a 20-row table).
- **scroll key** in the deploy pane (the console started on a run's pane,
  `console_on_run.py`) against the same key in a bare Textual `Log`: `home`, then
  `pagedown pagedown down up pageup end`, each moving the view from where the one
  before left it; a press counts once the top line moved and every visible log row has
  its text.

The flood is a real run: its runner is a separate process (started with `spawn`, as
`hotfix deploy` starts one) whose command prints `line N` as fast as it can, endlessly,
on the console's database (a copy of the big one), with no log cap; it is cancelled
through the real cancel path afterwards. Both programs run through the whole
measure; presses alternate between them (console, bare, console, …) so both see the
same load, with a random pause of 0.15–0.45 s before each press (a user's keys do not
arrive in step with the console's refresh ticks).
"""

from __future__ import annotations

import contextlib
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from common import BENCH_DIR, median, percentile
from p2_runner import ENDLESS, FLOOD, start_run
from term import Pane, Timeout, Tmux

from hotfix_tui.clock import iso, utcnow
from hotfix_tui.core.errors import HotfixError
from hotfix_tui.core.models import Actor
from hotfix_tui.deploy.runner import request_cancel, spawn, wait_finished
from hotfix_tui.store import open_store

LINE = re.compile(r"\bline (\d+)\b")
IDLE_LOG_LINES = 100_000  # the finished run the idle keys move through (> 1 000)
SCROLL_KEYS = ["Home", "PageDown", "PageDown", "Down", "Up", "PageUp", "End"]


def _env() -> dict[str, str]:
    import os

    keep = ("PATH", "HOME", "LANG", "LC_ALL", "USER", "LOGNAME")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["TERM"] = "screen-256color"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    return env


def _pause(rng: random.Random) -> None:
    time.sleep(rng.uniform(0.15, 0.45))


def help_round_trip(pane: Pane, title: str) -> tuple[float, float]:
    """(open, close) seconds: `?` to the frame showing `title`, `esc` to the frame
    without it."""
    at = pane.send("?")
    shown, _ = pane.wait_for(lambda s: title in s, at)
    time.sleep(0.05)  # a user reads before closing
    at2 = pane.send("Escape")
    gone, _ = pane.wait_for(lambda s: title not in s, at2)
    return shown - at, gone - at2


def _log_rows(text: str) -> list[int]:
    return [int(m.group(1)) for m in (LINE.search(row) for row in text.splitlines()) if m]


def scroll_press(pane: Pane, key: str) -> float:
    """Seconds from `key` to the frame whose log rows moved and are all drawn."""
    before = _log_rows(pane.screen()[0])
    top = before[0] if before else -1

    def moved(text: str) -> bool:
        now = _log_rows(text)
        if not now or now[0] == top or any(r.strip() == "…" for r in
                                            text.splitlines()[:-1]):
            return False  # not moved, or a row still waits for its text
        return now == list(range(now[0], now[0] + len(now)))

    at = pane.send(key)
    shown, _ = pane.wait_for(moved, at)
    return shown - at


def _alternate(rng: random.Random, n: int, *calls) -> list[list]:
    out: list[list] = [[] for _ in calls]
    for _ in range(n):
        for call, got in zip(calls, out, strict=True):
            _pause(rng)
            got.append(call())
    return out


def _at_the_end(pane: Pane) -> None:
    """Wait (untimed) until the pane shows the end of its log (it opens there), so that
    the first key, `home`, has somewhere to go."""
    pane.wait_settled(lambda s: len(_log_rows(s)) > 5 and _log_rows(s)[0] > 1000)


def _help_phase(rng, hot: Pane, bare: Pane, rounds: int) -> dict:
    hot_t, bare_t = _alternate(rng, rounds, lambda: help_round_trip(hot, "Keys — Dash"),
                               lambda: help_round_trip(bare, "Keys — Bare"))
    return {"hotfix": [a + b for a, b in hot_t], "bare": [a + b for a, b in bare_t],
            "hotfix_parts": hot_t, "bare_parts": bare_t}


def _scroll_phase(rng, log: Pane, bare_log: Pane, presses: int) -> dict:
    _at_the_end(log)
    bare_log.send("End")
    _at_the_end(bare_log)
    keys = [SCROLL_KEYS[i % len(SCROLL_KEYS)] for i in range(presses)]
    hot_t: list[float] = []
    bare_t: list[float] = []
    for key in keys:
        _pause(rng)
        hot_t.append(scroll_press(log, key))
        _pause(rng)
        bare_t.append(scroll_press(bare_log, key))
    return {"hotfix": hot_t, "bare": bare_t, "keys": keys}


def _lines(db: Path, deploy_id: int) -> int:
    store = open_store(db, create=False)
    try:
        return int(store.scalar("SELECT lines FROM deploys WHERE id = ?", (deploy_id,)) or 0)
    finally:
        store.close()


def _status(db: Path, deploy_id: int) -> str:
    store = open_store(db, create=False)
    try:
        return str(store.scalar("SELECT status FROM deploys WHERE id = ?", (deploy_id,)))
    finally:
        store.close()


@contextlib.contextmanager
def _profiled(folder: Path | None, pid: int, name: str):
    """With a profile folder: py-spy records the console's process meanwhile (its raw
    profile goes to FOLDER/NAME.raw, summarised by pyspy_summary.py)."""
    if folder is None:
        yield
        return
    out = folder / f"{name}.raw"
    proc = subprocess.Popen(["py-spy", "record", "--nonblocking", "--threads", "--rate",
                             "250", "--format", "raw", "-o", str(out), "--pid", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # py-spy attaches
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def measure(work: Path, repo: Path, big_db: Path, rounds: int,
            presses: int, profile: Path | None = None) -> dict:
    rng = random.Random(17)
    work.mkdir(parents=True, exist_ok=True)
    db = work / "console.db"
    shutil.copyfile(big_db, db)  # the flood writes into it; the big database stays as is
    python = sys.executable
    hotfix = str(Path(python).with_name("hotfix"))
    env = _env()
    tmux = Tmux(work / "tmux")
    deploy_id = None
    try:
        hot = Pane(tmux, "hotfix", [hotfix, "--repo", str(repo), "--db", str(db)], env, repo)
        bare = Pane(tmux, "bare", [python, str(BENCH_DIR / "bare_app.py")], env, BENCH_DIR)
        hot.wait_settled(lambda s: "INC-" in s and "Help" in s)
        bare.wait_settled(lambda s: "HF-1" in s)
        time.sleep(1.0)
        with _profiled(profile, hot.pid, "p3live-dashboard-idle"):
            idle = _help_phase(rng, hot, bare, rounds)
        done_id = start_run(db, [python, "-c", FLOOD.format(n=IDLE_LOG_LINES)], work,
                            env="staging", max_log_bytes=0)
        spawn(db, done_id)
        wait_finished(db, done_id, timeout=300)
        log = Pane(tmux, "log-idle", [python, str(BENCH_DIR / "console_on_run.py"), str(repo),
                                      str(db), f"D-{done_id}"], env, BENCH_DIR)
        bare_log = Pane(tmux, "bare-log", [python, str(BENCH_DIR / "bare_app.py"), "100000"],
                        env, BENCH_DIR)
        idle_scroll = _scroll_phase(rng, log, bare_log, presses)
        tmux.command("kill-window", "-t", log.pane)

        deploy_id = start_run(db, [python, "-c", ENDLESS], work, env="production",
                              max_log_bytes=0, timeout_s=3600)
        spawn(db, deploy_id)
        deadline = time.monotonic() + 60
        while _lines(db, deploy_id) < 1000:
            if time.monotonic() > deadline:
                raise RuntimeError("the flood did not start")
            time.sleep(0.05)
        hot.wait_settled(lambda s: f"D-{deploy_id}" in s)  # the dashboard sees the run
        lines_before = _lines(db, deploy_id)
        started = time.monotonic()
        with _profiled(profile, hot.pid, "p3live-dashboard-flood"):
            flood = _help_phase(rng, hot, bare, rounds)
        live = Pane(tmux, "log-live", [python, str(BENCH_DIR / "console_on_run.py"),
                                       str(repo), str(db), f"D-{deploy_id}"], env, BENCH_DIR)
        flood_scroll = _scroll_phase(rng, live, bare_log, presses)
        seconds = time.monotonic() - started
        lines_after = _lines(db, deploy_id)
        still_running = _status(db, deploy_id) == "running"
    except Timeout as exc:
        raise RuntimeError(str(exc)) from exc
    finally:
        status = "-"
        if deploy_id is not None:
            store = open_store(db)
            try:
                with contextlib.suppress(HotfixError):  # already over
                    request_cancel(store, deploy_id, Actor("bench", True), iso(utcnow()))
            finally:
                store.close()
            status = str(wait_finished(db, deploy_id, timeout=120).status)
        tmux.close()
    result = {
        "idle": idle, "flood": flood, "idle_scroll": idle_scroll,
        "flood_scroll": flood_scroll, "flood_lines": lines_after - lines_before,
        "flood_seconds": seconds, "final_status": status,
        "running_throughout": still_running,
    }
    for name in ("idle", "flood", "idle_scroll", "flood_scroll"):
        r = result[name]
        r["hotfix_median"], r["bare_median"] = median(r["hotfix"]), median(r["bare"])
        r["hotfix_p99"], r["bare_p99"] = percentile(r["hotfix"], 99), percentile(r["bare"], 99)
        r["median_ratio"] = r["hotfix_median"] / r["bare_median"]
        r["p99_ratio"] = r["hotfix_p99"] / r["bare_p99"]
    return result


# ---- reporting ------------------------------------------------------------------------------

PHASES = (("idle", "help round trip, idle"), ("flood", "help round trip, flood"),
          ("idle_scroll", "scroll key, idle"), ("flood_scroll", "scroll key, flood"))


def figures(r: dict) -> list[str]:
    """measured, baseline, figure for the summary table."""
    return [f"help: idle median {r['idle']['hotfix_median'] * 1000:.0f} ms, flood p99 "
            f"{r['flood']['hotfix_p99'] * 1000:.0f} ms; scroll: idle median "
            f"{r['idle_scroll']['hotfix_median'] * 1000:.0f} ms, flood p99 "
            f"{r['flood_scroll']['hotfix_p99'] * 1000:.0f} ms",
            f"bare: {r['idle']['bare_median'] * 1000:.0f}, "
            f"{r['flood']['bare_p99'] * 1000:.0f}; "
            f"{r['idle_scroll']['bare_median'] * 1000:.0f}, "
            f"{r['flood_scroll']['bare_p99'] * 1000:.0f} ms",
            f"help {r['idle']['median_ratio']:.2f}× / {r['flood']['p99_ratio']:.2f}×; "
            f"scroll {r['idle_scroll']['median_ratio']:.2f}× / "
            f"{r['flood_scroll']['p99_ratio']:.2f}×"]


def details(r: dict) -> list[str]:
    ms = lambda xs: ", ".join(f"{x * 1000:.0f}" for x in xs)  # noqa: E731
    out = ["| what | hotfix median | bare median | ratio | hotfix p99 | bare p99 | ratio |",
           "|---|---|---|---|---|---|---|"]
    for key, name in PHASES:
        x = r[key]
        out.append(f"| {name} | {x['hotfix_median'] * 1000:.0f} ms | "
                   f"{x['bare_median'] * 1000:.0f} ms | {x['median_ratio']:.2f}× | "
                   f"{x['hotfix_p99'] * 1000:.0f} ms | {x['bare_p99'] * 1000:.0f} ms | "
                   f"{x['p99_ratio']:.2f}× |")
    out += ["",
            f"- the flood wrote {r['flood_lines']:,} lines in the {r['flood_seconds']:.0f} s "
            f"of the flood phases ({r['flood_lines'] / max(r['flood_seconds'], 1e-9):,.0f} "
            f"lines/s); still running at their end: {r['running_throughout']}; then "
            f"cancelled: {r['final_status']}"]
    for key, name in PHASES:
        x = r[key]
        out.append(f"- {name} (ms): console {ms(x['hotfix'])}; bare {ms(x['bare'])}")
    for key in ("idle", "flood"):
        opens = [a for a, _ in r[key]["hotfix_parts"]]
        closes = [b for _, b in r[key]["hotfix_parts"]]
        out.append(f"- {key}, the console's `?` alone: median {median(opens) * 1000:.0f} ms; "
                   f"`esc` alone: median {median(closes) * 1000:.0f} ms")
    return out
