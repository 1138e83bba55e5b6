"""Shared helpers for the benchmark scripts: statistics, git, subprocesses, the machine."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench Author",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench Author",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}

# The terminal every console measure uses (P1, P3, P4, P6 and their baselines).
SIZE = (120, 40)


@dataclass(frozen=True)
class Sizes:
    """How big everything is: `full` is the issue's spec, `quick` the smoke run."""

    incidents: int
    hotfixes: int
    log_lines: int  # lines of the one long run (P1's database, P6)
    p1_runs: int
    p2_lines: int
    p2_runs: int
    p3_presses: int  # P3k: in-process presses in the deploy pane
    p3_rounds: int  # P3 live: help round trips per app, idle and under the flood
    p3_scroll: int  # P3 live: scroll keys per app, idle and under the flood
    p4_opens: int
    p4_searches: int
    p4_rounds: int
    p5_files: int
    p5_changed: int
    p5_runs: int
    p6_runs: int
    p7_runs: int  # CLI reads
    p8_files: int  # files in the project start + pick works on
    p8_runs: int
    p9_divergence: int  # commits between the hotfix's base and each of the 4 branches
    p9_runs: int
    p10_runs: int  # the CLI as scripts and shells use it, on the big database


FULL = Sizes(incidents=10_000, hotfixes=100_000, log_lines=1_000_000, p1_runs=9,
             p2_lines=1_000_000, p2_runs=5, p3_presses=200, p3_rounds=25, p3_scroll=28,
             p4_opens=5, p4_searches=20, p4_rounds=3, p5_files=20_000, p5_changed=300,
             p5_runs=15, p6_runs=5, p7_runs=9, p8_files=3_000, p8_runs=7,
             p9_divergence=2_000, p9_runs=9, p10_runs=9)
QUICK = Sizes(incidents=60, hotfixes=600, log_lines=5_000, p1_runs=1, p2_lines=20_000,
              p2_runs=1, p3_presses=12, p3_rounds=1, p3_scroll=2, p4_opens=1, p4_searches=4,
              p4_rounds=1, p5_files=300, p5_changed=30, p5_runs=2, p6_runs=1, p7_runs=1,
              p8_files=100, p8_runs=1, p9_divergence=60, p9_runs=1, p10_runs=1)


def median(values: list[float]) -> float:
    return statistics.median(values)


def alternate(runs: int, *calls) -> list[list[float]]:
    """Time each of `calls` `runs` times, taking turns (load drifts hit all alike):
    seconds per run, one list per call."""
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(runs):
        for call, out in zip(calls, times, strict=True):
            t = time.perf_counter()
            call()
            out.append(time.perf_counter() - t)
    return times


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100): p99 of 200 values is the 198th smallest."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * p // 100))  # ceil
    return ordered[int(rank) - 1]


def git(cwd: Path, *args: str, stdin: bytes | None = None) -> str:
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, input=stdin, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode().strip()


def compile_sources() -> None:
    """Write the package's bytecode, as installing it does: with PYTHONDONTWRITEBYTECODE
    set, or a source changed since its .pyc, every process a benchmark starts would
    otherwise compile the changed modules again, and that is not what a user waits for."""
    import compileall

    compileall.compile_dir(ROOT / "hotfix_tui", quiet=1)


def child_env() -> dict[str, str]:
    """The environment of every subprocess the benchmarks start (fixed actor)."""
    env = {**os.environ, **GIT_ENV, "HOTFIX_ACTOR": "bench"}
    env.pop("TEXTUAL", None)  # devtools would slow the console down
    return env


def run_child(argv: list[str], timeout: float = 300) -> tuple[float, str, int]:
    """Run a subprocess to its end: (monotonic time it was started, its stdout, and
    ru_maxrss from os.wait4 in KiB, which on Linux includes the parent's size at fork)."""
    import tempfile
    import threading

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=child_env(), cwd=ROOT)
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            watchdog.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: tell Popen
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[1:4])} exited {proc.returncode}: {errors[-3000:]}")
    return started, text, int(usage.ru_maxrss)


def visible_loaded(log) -> bool:
    """Every line on screen has its text (none is drawn as the "…" placeholder)."""
    from hotfix_tui.tui.widgets.logview import PAGE

    top = int(log.scroll_offset.y) + 1
    bottom = min(log.total, top + log.scrollable_content_region.height - 1)
    for seq in range(top, bottom + 1):
        page = log.pages.get((seq - 1) // PAGE)
        if page is None or (seq - 1) % PAGE >= len(page):
            return False
    return True


def machine() -> dict[str, str]:
    import textual

    try:
        git_version = git(Path.cwd(), "--version").removeprefix("git version ")
    except (OSError, RuntimeError):
        git_version = "?"
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "textual": textual.__version__,
        "git": git_version,
        "os": f"{platform.system()} {platform.release()}",
    }


def source_state() -> str:
    """The commit measured, and which product files differ from it (read-only git)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}

    def run(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True)
        return proc.stdout.strip() if proc.returncode == 0 else "?"

    head = run("rev-parse", "--short", "HEAD")
    changed = run("diff", "--name-only", "HEAD", "--", "hotfix_tui").split()
    return head + (f" with uncommitted changes to {', '.join(changed)}" if changed else "")


def python() -> str:
    return sys.executable
