"""The README's install line, run as written in a real shell on a copy of the project: it
puts `hotfix` on the PATH, and then every next step `hotfix demo` suggests works exactly as
written, in a new shell that activates the environment as the README says."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BASH = shutil.which("bash")


def _install_line() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    line = re.findall(r"```sh\n(.+?)\n```", section, flags=re.S)[0]
    assert line.endswith(" && hotfix demo"), line
    return line.removesuffix(" && hotfix demo")  # the console itself needs a terminal


def _bash(script: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
           "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run([BASH, "-euo", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_the_install_line_puts_hotfix_on_path_and_the_hints_work(tmp_path):
    if BASH is None:
        pytest.skip("bash is not installed")
    src = tmp_path / "hotfix-tui"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", "__pycache__", "*.egg-info", ".*_cache", "tests", "bench",
        "screenshots", ".hypothesis"))
    home = tmp_path / "home"
    home.mkdir()
    git_identity = ("git config --global user.name 'On Call' && "
                    "git config --global user.email oncall@example.com")
    first = _bash(f"{git_identity}\n{_install_line()}\ncommand -v hotfix\n"
                  "hotfix demo --no-tui", src, home)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == f"{src}/.venv/bin/hotfix"

    # the next steps, verbatim (all but `hotfix` alone, which opens the console)
    steps = [ln.strip() for ln in lines[1:] if ln.startswith("  ")]
    assert steps[0].startswith("cd ") and any("hotfix deploy" in s for s in steps)
    script = ". .venv/bin/activate\n" + "\n".join(
        s for s in steps if s.split("#")[0].strip() != "hotfix")
    second = _bash(script, src, home)
    assert second.returncode == 0, (second.stdout[-2000:], second.stderr[-2000:])
    assert "D-1: succeeded" in second.stdout  # staging first
    assert "D-3: succeeded" in second.stdout  # then production
    assert "D-5: succeeded" in second.stdout  # the rollback drill
