"""The benchmark suite runs end to end at tiny sizes. Its figures are not checked here:
speed is measured in bench/, never asserted in a test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_run_writes_every_measure(tmp_path):
    out = tmp_path / "results.md"
    kept = ROOT / "bench" / "RESULTS.md"
    before = kept.stat().st_mtime_ns if kept.exists() else None
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = out.read_text()
    for measure in ("P1", "P2", "P3", "P3k", "P4", "P5", "P6", "P7", "P8", "P9", "P10"):
        assert f"| {measure} |" in text, measure
        assert f"### {measure}:" in text, measure
    assert "| error |" not in text
    assert (kept.stat().st_mtime_ns if kept.exists() else None) == before  # --out was used
