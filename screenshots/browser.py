"""Screenshot `hotfix serve` in headless Chromium, as a reviewer sees it in a browser.

    python screenshots/browser.py [--out DIR]

Runs the same pieces as tests/e2e/test_serve_browser.py (the demo with a hotfix and a run,
the real server, Chromium at a laptop's window size) and saves served-hotfix.png (a hotfix's
timeline, opened from the history browser), which the README shows. Needs Debian's
chromium, chromium-driver and tesseract-ocr (.ci/run installs them) and the test extra.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SHOTS = ["served-hotfix.png"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    from tests.serve_helpers import BROWSER_MISSING, Browser, Served, demo_with_a_run, ocr

    if BROWSER_MISSING:
        print(BROWSER_MISSING, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="hotfix-served-") as tmp:
        root = Path(tmp)
        (root / "home").mkdir()
        os.environ.update({"HOME": str(root / "home"), "TEXTUAL_ANIMATIONS": "none",
                           "XDG_CONFIG_HOME": str(root / "home" / ".config"),
                           "GIT_CONFIG_NOSYSTEM": "1"})
        repo = demo_with_a_run(root)
        served = Served(repo, root)
        browser = Browser(root / "browser", root / "c")
        try:
            browser.open(served.url)
            browser.wait("SEV1  INC-2", "HF-1   deployed")
            browser.keys("h")
            browser.wait("1-1 of 1", "Cap gift card redemption", "succeeded")
            browser.keys("enter", "5")
            browser.wait("HF-1 deployed", "D-1 deploy succeeded", "staging now runs 1.4.2")
            shot = browser.screenshot(args.out / "served-hotfix.png")
            seen = ocr(shot)
            if "HF-1" not in seen or "INC-2" not in seen:
                print(f"{shot} does not show HF-1 and INC-2:\n{seen}", file=sys.stderr)
                return 1
        finally:
            browser.close()
            served.stop()
    print(f"{len(SHOTS)} screenshot(s) in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
