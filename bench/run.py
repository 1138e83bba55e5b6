"""Run every benchmark of hotfix-tui, print a table, and rewrite bench/RESULTS.md.

    python bench/run.py                  the issue's sizes (about 5 minutes on 2 cores)
    python bench/run.py --quick          tiny sizes, for the smoke test
    python bench/run.py --out FILE       write the results somewhere else
    python bench/run.py --only P3,P9     some measures only (prints; writes only with --out)
    python bench/run.py --data DIR       keep the generated data in DIR and reuse it
    python bench/run.py --profile DIR    also save pyinstrument profiles of P1 and P4, and
                                         py-spy profiles of the console during P3

Every figure is a ratio to a baseline measured in the same run on the same
machine, or an absolute latency where the issue sets one. Nothing here asserts:
a missed target is reported, not failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import datagen
from common import BENCH_DIR, FULL, QUICK, SIZE, Sizes, compile_sources, machine, source_state

MEASURES = ("P1", "P2", "P3", "P3k", "P4", "P5", "P6", "P7", "P8", "P9", "P10")


def _p3_met(r: dict) -> bool:
    return all(r[k]["median_ratio"] <= 1.2 and r[f"flood{k[4:]}"]["p99_ratio"] <= 1.5
               for k in ("idle", "idle_scroll"))


TARGETS = {
    "P1": ("≤ 1.5×", lambda r: r["ratio"] <= 1.5),
    "P2": ("≥ 0.5×", lambda r: r["ratio"] >= 0.5),
    "P3": ("idle median ≤ 1.2×, flood p99 ≤ 1.5×", _p3_met),
    "P3k": ("p99 ≤ 100 ms", lambda r: r["p99_ms"] <= 100),
    "P4": ("each ≤ 50 ms", lambda r: max(r["open_max_ms"], r["search_max_ms"]) <= 50),
    "P5": ("≤ 1.3×", lambda r: r["ratio"] <= 1.3),
    "P6": ("≤ 2×", lambda r: r["ratio"] <= 2),
    "P7": ("each ≤ 2×", lambda r: r["ratio"] <= 2),
    "P8": ("≤ 2.5×", lambda r: r["ratio"] <= 2.5),
    "P9": ("≤ 2×", lambda r: r["ratio"] <= 2),
    "P10": ("≤ 2×", lambda r: r["ratio"] <= 2),
}


class Data:
    """Generated once per run (or once per --data folder), on first use."""

    def __init__(self, root: Path, sizes: Sizes) -> None:
        self.root = root
        self.sizes = sizes
        self.root.mkdir(parents=True, exist_ok=True)

    def _cached(self, name: str, make):
        """Reuse what a previous run with the same sizes left in a --data folder."""
        stamp = self.root / f"{name}.json"
        want = json.dumps(self.sizes.__dict__, sort_keys=True)
        if stamp.exists():
            saved = json.loads(stamp.read_text())
            if saved.get("sizes") == want:
                return saved["value"]
        started = time.monotonic()
        value = make()
        stamp.write_text(json.dumps({"sizes": want, "value": value}))
        print(f"  generated {name} in {time.monotonic() - started:.1f}s", flush=True)
        return value

    @cached_property
    def console_repo(self) -> Path:
        path = self.root / "console-repo"
        self._cached("console-repo", lambda: str(datagen.make_console_repo(path)))
        return path

    @cached_property
    def big_db(self) -> dict:
        path = self.root / "big.db"

        def make() -> dict:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            return datagen.make_console_db(path, self.sizes)

        info = self._cached("big-db", make)
        return {**info, "path": path}

    @cached_property
    def empty_db(self) -> Path:
        from hotfix_tui.store import open_store

        path = self.root / "empty.db"
        if not path.exists():
            open_store(path).close()
        return path

    @cached_property
    def scope(self) -> dict:
        repo, db = self.root / "scope-repo", self.root / "scope.db"

        def make() -> dict:
            info = datagen.make_scope_repo(repo, self.sizes.p5_files, self.sizes.p5_changed)
            db.unlink(missing_ok=True)
            datagen.make_scope_db(db, repo, info)
            return info

        info = self._cached("scope-repo", make)
        return {**info, "repo": repo, "db": db}

    @cached_property
    def backports(self) -> dict:
        import p9_missing

        repo, db = self.root / "backport-repo", self.root / "backport.db"

        def make() -> dict:
            info = p9_missing.make_repo(repo, self.sizes.p9_divergence)
            p9_missing.make_db(db, repo, info)
            return info

        info = self._cached("backport-repo", make)
        return {**info, "repo": repo, "db": db}

    @cached_property
    def cli_project(self) -> dict:
        """P7 and P8's project; made afresh each run (P8 adds hotfixes to it)."""
        import p7_p8_cli

        return p7_p8_cli.make_project(self.root / "cli" / "project", self.sizes.p8_files)


# ---- the measures ------------------------------------------------------------------------

def run_p1(data: Data, s: Sizes, profile: Path | None) -> dict:
    import p1_p6_console

    r = p1_p6_console.measure_p1(data.console_repo, data.big_db["path"], data.empty_db,
                                 s.p1_runs)
    if profile:
        p1_p6_console.profile_p1(data.console_repo, data.big_db["path"], profile / "p1.txt")
    return r


def run_p2(data: Data, s: Sizes, profile: Path | None) -> dict:
    import p2_runner

    return p2_runner.measure(data.root / "p2", s.p2_lines, s.p2_runs)


def run_p3(data: Data, s: Sizes, profile: Path | None) -> dict:
    import p3_live

    work = data.root / "p3-live"
    try:
        return p3_live.measure(work, data.console_repo, data.big_db["path"], s.p3_rounds,
                               s.p3_scroll, profile)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # a copy of the big database, and the flood


def run_p3k(data: Data, s: Sizes, profile: Path | None) -> dict:
    import p3_keys

    work = data.root / "p3"
    try:
        return p3_keys.measure(work, data.console_repo, s.p3_presses)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the flood's database is large


PROFILE_OPTIONS = {"show_regex": r".*(textual|hotfix_tui|rich|sqlite).*", "filter_threshold": 0.02}


def run_p4(data: Data, s: Sizes, profile: Path | None) -> dict:
    import p4_history

    args = (data.console_repo, data.big_db["path"], s.incidents)
    r = p4_history.measure(*args, s.p4_opens, s.p4_searches, s.p4_rounds)
    if profile:  # a separate pass: the profiler's overhead must not reach the figures
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
        p4_history.measure(*args, 1, s.p4_searches, 1)
        profiler.stop()
        (profile / "p4.txt").write_text(profiler.output_text(
            unicode=True, color=False, processor_options=PROFILE_OPTIONS))
    return r


def run_p5(data: Data, s: Sizes, profile: Path | None) -> dict:
    import p5_scope

    sc = data.scope
    return p5_scope.measure(sc["repo"], sc["db"], sc, s.p5_runs)


def run_p6(data: Data, s: Sizes, profile: Path | None) -> dict:
    import p1_p6_console

    return p1_p6_console.measure_p6(data.console_repo, data.big_db["path"],
                                    data.big_db["long_run"], s.p6_runs)


def run_p7(data: Data, s: Sizes, profile: Path | None) -> dict:
    import p7_p8_cli

    return p7_p8_cli.measure_p7(data.cli_project, s.p7_runs)


def run_p8(data: Data, s: Sizes, profile: Path | None) -> dict:
    import p7_p8_cli

    return p7_p8_cli.measure_p8(data.cli_project, s.p8_runs)


def run_p9(data: Data, s: Sizes, profile: Path | None) -> dict:
    import p9_missing

    bp = data.backports
    return p9_missing.measure(bp["repo"], bp["db"], bp, s.p9_runs)


def run_p10(data: Data, s: Sizes, profile: Path | None) -> dict:
    import p10_cli_scripts

    return p10_cli_scripts.measure(data.console_repo, data.big_db["path"], s.p10_runs)


RUNNERS = {"P1": run_p1, "P2": run_p2, "P3": run_p3, "P3k": run_p3k, "P4": run_p4,
           "P5": run_p5, "P6": run_p6, "P7": run_p7, "P8": run_p8, "P9": run_p9,
           "P10": run_p10}


# ---- reporting -----------------------------------------------------------------------------

def _mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def summary_rows(results: dict) -> list[list[str]]:
    rows = []
    for m in MEASURES:
        r = results.get(m)
        if r is None:
            continue
        if "error" in r:
            rows.append([m, r["what"], "error", "", "", TARGETS[m][0], "ERROR"])
            continue
        if m == "P1":
            fig = [f"{r['value']:.3f} s", f"{r['baseline']:.3f} s", f"{r['ratio']:.2f}×"]
        elif m == "P2":
            fig = [f"{r['value']:,.0f} lines/s", f"{r['baseline']:,.0f} lines/s",
                   f"{r['ratio']:.2f}×"]
        elif m == "P3":
            import p3_live

            fig = p3_live.figures(r)
        elif m == "P3k":
            fig = [f"median {r['median_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms", "—",
                   f"p99 {r['p99_ms']:.0f} ms"]
        elif m == "P4":
            fig = [f"open {r['open_ms']:.1f} ms (max {r['open_max_ms']:.1f}); searches "
                   f"max {r['search_max_ms']:.1f} ms", "—",
                   f"max {max(r['open_max_ms'], r['search_max_ms']):.0f} ms"]
        elif m == "P7":
            import p7_p8_cli

            fig = p7_p8_cli.p7_figures(r)
        elif m in ("P5", "P8", "P9", "P10"):
            fig = [f"{r['value'] * 1000:.1f} ms", f"{r['baseline'] * 1000:.1f} ms",
                   f"{r['ratio']:.2f}×"]
        else:
            fig = [_mib(r["value"]), _mib(r["baseline"]), f"{r['ratio']:.2f}×"]
        met = "met" if TARGETS[m][1](r) else "MISSED"
        rows.append([m, r["what"], *fig, TARGETS[m][0], met])
    return rows


WHAT = {
    "P1": "first frame of `hotfix tui` (dashboard with data) vs bare Textual app",
    "P2": "lines/s persisted by the runner vs plain executemany loop",
    "P3": "keys in a real terminal (tmux 80×24), idle and under a 300k-line flood, vs a "
          "bare Textual app: help open/close on the dashboard; a scroll key in the deploy pane",
    "P3k": "key press → visible effect in the live deploy pane under a flood (in process)",
    "P4": "history browser: open → first rows; each full-text search",
    "P5": "`services.scope` vs `git diff --numstat` (in-process vs subprocess)",
    "P6": "peak RSS: deploy pane on the long log vs bare Textual app",
    "P7": "CLI reads (`list`, `show`, `status`, `incident list`, `--json`) vs "
          "`python -c \"import click, sqlite3\"`",
    "P8": "`hotfix start` + `hotfix pick` vs `git worktree add` + `git cherry-pick -x`",
    "P9": "`services.missing` over 4 diverged branches vs 4× `git cherry`",
    "P10": "slowest of `list --json`, `history … --json`, a completion Tab on the big "
           "database vs `hotfix --version`",
}


def table_text(rows: list[list[str]]) -> str:
    head = ["#", "what", "measured", "baseline", "figure", "target", ""]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip()
             for r in [head, *rows]]
    return "\n".join(lines)


def details(m: str, r: dict) -> list[str]:
    if "error" in r:
        return ["```", r["error"], "```"]
    ms = lambda xs: ", ".join(f"{x * 1000:.0f}" for x in xs)  # noqa: E731
    if m == "P1":
        return [
            f"- `hotfix tui` runs (ms): {ms(r['hotfix_s'])}",
            f"- bare app runs (ms): {ms(r['bare_s'])}",
            f"- `hotfix tui` on an empty database (ms): {ms(r['empty_s'])} → median "
            f"{r['empty_db'] * 1000:.0f} ms = {r['empty_ratio']:.2f}× the bare app (the floor "
            "that imports and the console's widgets set, whatever the data)",
            f"- dashboard rows on the big database: {r.get('dashboard_rows', '?')}",
        ]
    if m == "P2":
        return [f"- {r['lines']:,} lines per run; runner runs (s): "
                f"{', '.join(f'{x:.2f}' for x in r['runner_s'])}",
                f"- baseline runs (s): {', '.join(f'{x:.2f}' for x in r['baseline_s'])}"]
    if m == "P3":
        import p3_live

        return p3_live.details(r)
    if m in ("P7", "P8"):
        import p7_p8_cli

        return p7_p8_cli.details(m, r)
    if m == "P3k":
        by: dict[str, list[float]] = {}
        for k, v in zip(r["keys"], r["latencies_ms"], strict=True):
            by.setdefault(k, []).append(v)
        from common import median, percentile

        keys = ", ".join(f"`{k}` {median(v):.0f}/{percentile(v, 99):.0f}"
                         for k, v in by.items())
        slow = [(v, p) for v, p in zip(r["latencies_ms"], r["phases_ms"], strict=True)
                if v > 100]
        why = {"before the key's action ran (busy event loop)": 0,
               "between the action and the frame that showed it": 0,
               "for log lines to be read after the move was shown": 0}
        for v, (ran, moved) in slow:
            parts = [ran, moved - ran, v - moved]
            why[list(why)[parts.index(max(parts))]] += 1
        return [
            f"- {r['presses']} presses in {r['seconds']:.1f} s; max {r['max_ms']:.0f} ms; "
            f"{r['timeouts']} presses had no visible effect within 5 s (counted as 5 s)",
            f"- the run was {'still running' if r['running_throughout'] else 'NOT running'}"
            f" after the last press; the log grew from {r['lines_at_first']:,} to "
            f"{r['lines_at_last']:,} lines during the presses (then cancelled: "
            f"{r['final_status']})",
            f"- per key, median/p99 ms: {keys}",
            f"- {len(slow)} presses took over 100 ms; most of their time went: "
            + "; ".join(f"{why_} ({n})" for why_, n in why.items()),
        ]
    if m == "P4":
        out = [f"- open runs (ms): {', '.join(f'{x:.0f}' for x in r['open_all_ms'])}; "
               f"to the screen settled: "
               f"{', '.join(f'{x:.0f}' for x in r.get('open_settled_ms', []))}",
               "", "| query | rows | matches | console (ms) | settled (ms) | "
               "history_page alone (ms) |", "|---|---|---|---|---|---|"]
        for q, v in r["search_ms"].items():
            sv = r["service_ms"][q]
            total = f"{sv['total']:,}" if sv["total"] <= 10_000 else "10,000+"
            settled = r.get("search_settled_ms", {}).get(q, float("nan"))
            out.append(f"| `{q}` | {r['rows'][q]} | {total} | {v:.1f} | {settled:.1f} | "
                       f"{sv['ms']:.1f} |")
        return out
    if m == "P5":
        return [f"- services.scope runs (ms): {ms(r['scope_s'])}",
                f"- git diff --numstat runs (ms): {ms(r['git_s'])}",
                f"- {r['numstat_files']} files, {r['lines']} lines, {r['commits']} commits",
                f"- whole CLI `hotfix scope HF-1 --json` in a subprocess: "
                f"{r['cli_s'] * 1000:.0f} ms = {r['cli_ratio']:.1f}× git diff (mostly "
                "interpreter start and imports; not the comparison the target is for)"]
    if m == "P9":
        div = ", ".join(f"{b} {n:,}" for b, n in r["divergence"].items())
        return [f"- services.missing runs, patch cache emptied first (ms): {ms(r['missing_s'])}",
                f"- 4× git cherry runs (ms): {ms(r['cherry_s'])}",
                f"- services.missing runs with the cache kept, as in the console (ms): "
                f"{ms(r['warm_s'])}",
                f"- commits from the hotfix's base to each branch: {div}; "
                f"{r['git_commands']} git commands per `missing`"]
    if m == "P10":
        return [f"- `hotfix --version` runs (ms): {ms(r['version_s'])}",
                f"- `hotfix list --json` (first page of 100) runs (ms): {ms(r['list_s'])}",
                f"- `hotfix history gift card state:finished --json` runs (ms): "
                f"{ms(r['history_s'])} ({r['history_total']:,} matches)",
                f"- completion Tab on `hotfix show HF-1` runs (ms): {ms(r['complete_s'])} "
                f"({r['candidates']} candidates)"]
    return [f"- deploy pane peaks (MiB): {', '.join(_mib(x)[:-4] for x in r['deploy_kib'])}",
            f"- bare app peaks (MiB): {', '.join(_mib(x)[:-4] for x in r['bare_kib'])}",
            f"- first frame of the deploy pane with its log lines: "
            f"{r['first_log_frame_s'] * 1000:.0f} ms"]


def write_results(path: Path, results: dict, info: dict, sizes: Sizes, quick: bool) -> None:
    rows = summary_rows(results)
    lines = [
        "# hotfix-tui benchmarks",
        "",
        f"Written by `python bench/run.py{' --quick' if quick else ''}` on {info['date']} "
        f"in {info['seconds']:.0f} s. Every ratio is to a baseline measured in the same "
        "run on the same machine; how each measure is taken, and what the profiles show, is in "
        + ("bench/NOTES.md." if quick else "the notes at the end (bench/NOTES.md)."),
        "",
        "## Machine",
        "",
        "| cores | CPU | Python | SQLite | Textual | git | OS |",
        "|---|---|---|---|---|---|---|",
        "| {cores} | {cpu} | {python} | {sqlite} | {textual} | {git} | {os} |".format(
            **info["machine"]),
        "",
        f"Code measured: {info['source']}.",
        "",
        f"Load average (1 min) at the start and at the end of the run: {info['load'][0]:.2f}, "
        f"{info['load'][1]:.2f}. Anything else running on the machine shows up in the "
        "absolute latencies of P3 and P4 more than in the ratios.",
        "",
        "## Data",
        "",
    ]
    big = info.get("big_db")
    if big:
        c = big["counts"]
        lines.append(f"- console database: {c['incidents']:,} incidents "
                     f"({c['open_incidents']:,} not resolved), {c['hotfixes']:,} hotfixes, "
                     f"{c['approvals']:,} approvals, {c['deploys']:,} deploys, "
                     f"{c['deploy_lines']:,} deploy log lines (the long run "
                     f"{big['long_run']} has {sizes.log_lines:,})")
    lines.append(f"- P2/P3 floods: `python -c` printing `line N` as fast as it can; P2 "
                 f"{sizes.p2_lines:,} lines × {sizes.p2_runs} runs; P3 endless (a copy of "
                 f"the console database), {sizes.p3_rounds} help round trips and "
                 f"{sizes.p3_scroll} scroll keys per app, idle and under the flood; P3k "
                 f"endless, {sizes.p3_presses} presses")
    lines.append(f"- P5 repository: {sizes.p5_files:,} files, hotfix of "
                 f"{sizes.p5_changed} files in 3 commits")
    lines.append(f"- P7/P8 project: a repository of {sizes.p8_files:,} files tagged v1.0.0 and "
                 "`main` 40 commits past it (one is the fix), `.hotfix.toml`, the database "
                 "of `hotfix init`, one open SEV1 and 3 hotfixes started and picked "
                 "(P8 adds one per run)")
    lines.append(f"- P9 repository: 4 branches each {sizes.p9_divergence:,} commits from the "
                 "hotfix's base (main, and three release branches forked from it late), "
                 "a hotfix of 2 commits")
    lines.append(f"- console size {SIZE[0]}×{SIZE[1]}; medians of {sizes.p1_runs} (P1), "
                 f"{sizes.p2_runs} (P2), {sizes.p5_runs} (P5), {sizes.p6_runs} (P6), "
                 f"{sizes.p7_runs} (P7), {sizes.p8_runs} (P8), {sizes.p9_runs} (P9), "
                 f"{sizes.p10_runs} (P10) runs; P3 at 80×24")
    lines += ["", "## Results", "", "| # | what | measured | baseline | figure | target | |",
              "|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    for m in MEASURES:
        if m in results:
            lines += ["", f"### {m}: {WHAT[m]}", "", *details(m, results[m])]
    notes = BENCH_DIR / "NOTES.md"
    if notes.exists() and not quick:
        lines += ["", "---", "", notes.read_text().strip()]
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes (the smoke test)")
    p.add_argument("--out", type=Path, help="results file (default bench/RESULTS.md)")
    p.add_argument("--only", help="comma-separated measures, e.g. P3,P4")
    p.add_argument("--data", type=Path, help="folder for generated data, kept and reused")
    p.add_argument("--profile", type=Path, help="folder for pyinstrument profiles (P1, P4)")
    a = p.parse_args(argv)
    sizes = QUICK if a.quick else FULL
    named = {m.upper(): m for m in MEASURES}
    only = [named.get(m.strip().upper(), m.strip()) for m in a.only.split(",")] if a.only \
        else list(MEASURES)
    unknown = [m for m in only if m not in MEASURES]
    if unknown:
        p.error(f"unknown measure {', '.join(unknown)} (known: {', '.join(MEASURES)})")
    out = a.out if a.out else (None if a.only else BENCH_DIR / "RESULTS.md")
    root = a.data or Path(tempfile.mkdtemp(prefix="hotfix-bench-"))
    if a.profile:
        a.profile.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    load_start = os.getloadavg()[0]
    source = source_state()
    compile_sources()
    data = Data(root, sizes)
    results: dict = {}
    failed = False
    try:
        for m in only:
            t = time.monotonic()
            print(f"{m}: {WHAT[m]} …", flush=True)
            try:
                r = RUNNERS[m](data, sizes, a.profile)
            except Exception:
                failed = True
                r = {"error": traceback.format_exc()}
                print(r["error"], file=sys.stderr)
            r["what"] = WHAT[m]
            results[m] = r
            print(f"  {m} done in {time.monotonic() - t:.1f}s", flush=True)
        if "P1" in results and "error" not in results["P1"]:
            from hotfix_tui import services

            ctx = services.open_context(repo=data.console_repo, db=data.big_db["path"])
            board = services.views.dashboard(ctx)
            results["P1"]["dashboard_rows"] = (
                f"{len(board.incidents)} incidents + "
                f"{sum(len(r.hotfixes) for r in board.incidents)} hotfixes")
        info = {"machine": machine(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "seconds": time.monotonic() - started,
                "load": (load_start, os.getloadavg()[0]), "source": source}
        if "big_db" in data.__dict__:
            info["big_db"] = data.big_db
        print()
        print(table_text(summary_rows(results)))
        print(f"\n{info['seconds']:.0f} s on {info['machine']['cores']} cores; load average "
              f"{info['load'][0]:.2f} → {info['load'][1]:.2f}")
        if out is not None:
            write_results(out, results, info, sizes, a.quick)
            print(f"wrote {out}")
    finally:
        if a.data is None:
            shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
