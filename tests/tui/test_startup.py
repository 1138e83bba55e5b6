"""The console's start: what it leaves to later, so that its first frame comes soon.
(Speed itself is measured in bench/, never here.)"""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc, sys
from hotfix_tui import services
from hotfix_tui.tui.app import HotfixApp

class Probe(HotfixApp):
    CSS_PATH = HotfixApp.CSS_PATH and str(__import__("pathlib").Path(
        sys.modules[HotfixApp.__module__].__file__).parent / HotfixApp.CSS_PATH)

    def on_mount(self):
        super().on_mount()
        self.exit(gc.get_freeze_count())

print(Probe(services.open_context(repo=sys.argv[1])).run(headless=True, size=(80, 24)))
"""


def test_a_running_console_keeps_what_it_loaded_out_of_the_collectors_reach(shop, tmp_path):
    """`hotfix tui` freezes what is loaded when it starts (modules, config, the app):
    no full garbage collection walks it again, before the first frame or after."""
    before = subprocess.run([sys.executable, "-c", "import gc; print(gc.get_freeze_count())"],
                            capture_output=True, text=True, timeout=60, check=True)
    assert before.stdout.strip() == "0"
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    out = subprocess.run([sys.executable, str(probe), str(shop.path)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip().splitlines()[-1]) > 10_000, out.stderr
