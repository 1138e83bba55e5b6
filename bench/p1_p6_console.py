"""P1 (time to the first frame with data) and P6 (peak RSS), both from first_frame.py.

Each run is a fresh subprocess; the time is from just before it is started to the
end of its first frame with data, and the peak RSS is the VmHWM the driver reads
from /proc/self/status at that frame, just before it leaves. (ru_maxrss from
wait4 is no good here: Linux counts the parent's resident set at fork time in
the child's maximum, so every child looked as big as the benchmark process.)
Runs of the console and the baseline alternate, so drifts hit both alike.
"""

from __future__ import annotations

import json
from pathlib import Path

from common import BENCH_DIR, median, python, run_child

DRIVER = str(BENCH_DIR / "first_frame.py")


def _once(mode: str, *args: str) -> tuple[float, int, int]:
    """(seconds to the first frame, VmHWM at that frame in KiB, wait4's ru_maxrss)."""
    started, out, peak = run_child([python(), DRIVER, mode, *args], timeout=180)
    report = json.loads(out.strip().splitlines()[-1])
    return report["frame_at"] - started, report["hwm_kib"], peak


def measure_p1(repo: Path, db: Path, empty_db: Path, runs: int) -> dict:
    bare, hotfix, empty = [], [], []
    for _ in range(runs):
        bare.append(_once("bare")[0])
        hotfix.append(_once("hotfix", "--repo", str(repo), "--db", str(db))[0])
        empty.append(_once("hotfix", "--repo", str(repo), "--db", str(empty_db))[0])
    return {
        "value": median(hotfix), "baseline": median(bare),
        "ratio": median(hotfix) / median(bare),
        "empty_db": median(empty), "empty_ratio": median(empty) / median(bare),
        "hotfix_s": hotfix, "bare_s": bare, "empty_s": empty,
    }


def measure_p6(repo: Path, db: Path, run_key: str, runs: int) -> dict:
    bare, deploy, deploy_t = [], [], []
    for _ in range(runs):
        bare.append(_once("bare")[1])
        t, hwm, _ = _once("deploy", "--repo", str(repo), "--db", str(db), "--run", run_key)
        deploy.append(hwm)
        deploy_t.append(t)
    return {
        "value": median(deploy), "baseline": median(bare),
        "ratio": median(deploy) / median(bare),
        "deploy_kib": deploy, "bare_kib": bare, "first_log_frame_s": median(deploy_t),
    }


def profile_p1(repo: Path, db: Path, out: Path) -> None:
    """A pyinstrument profile of one `hotfix tui` start (needs pyinstrument installed)."""
    _once("hotfix", "--repo", str(repo), "--db", str(db), "--profile", str(out))
