"""The screenshot script runs and produces every file the README references."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_script_makes_every_screenshot_the_readme_shows(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "screenshots" / "make.py"), "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    readme = (ROOT / "README.md").read_text()
    referenced = set(re.findall(r"screenshots/([\w.-]+\.svg)", readme))
    assert referenced, "the README shows no screenshot"
    for name in referenced:
        made = tmp_path / name
        assert made.is_file() and made.read_text().lstrip().startswith("<svg"), name
        assert (ROOT / "screenshots" / name).is_file(), f"{name} is not committed"
