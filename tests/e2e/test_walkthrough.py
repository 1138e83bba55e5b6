"""The README walkthrough in a real terminal: the installed `hotfix` in tmux at 80x24,
driven with keys only, checked by what the screen shows at each step."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

TMUX = shutil.which("tmux")
HOTFIX = Path(sys.executable).parent / "hotfix"


@pytest.fixture
def term(tmp_path):
    if TMUX is None:
        pytest.skip("tmux is not installed and could not be installed (see .ci/run)")
    if not HOTFIX.exists():
        pytest.skip(f"the hotfix command is not installed next to {sys.executable}")
    t = Terminal(tmp_path)
    yield t
    t.close()


class Terminal:
    def __init__(self, tmp: Path) -> None:
        self.socket = f"hotfix-e2e-{uuid.uuid4().hex[:8]}"
        self.tmp = tmp
        self.env = {"TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none",
                    "HOTFIX_ACTOR": "alice", "HOME": str(tmp / "home"),
                    "XDG_CONFIG_HOME": str(tmp / "home" / ".config"),
                    "PATH": f"{HOTFIX.parent}:{os.environ.get('PATH', '')}",
                    "LANG": "C.UTF-8", "COLORTERM": "truecolor"}
        (tmp / "home").mkdir()

    def tmux(self, *args: str, check: bool = True) -> str:
        # a clean environment for the tmux server, so the console sees what a login
        # shell would, not the test runner's variables
        proc = subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=30, env=self.env)
        if check and proc.returncode != 0:
            raise AssertionError(f"tmux {args}: {proc.stderr}")
        return proc.stdout

    def start(self, command: str, window: str = "main", cwd: Path | None = None) -> None:
        env_args = [a for k, v in self.env.items() for a in ("-e", f"{k}={v}")]
        where = ["-c", str(cwd or self.tmp)]
        if window == "main":
            self.tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", "e2e", "-n", window,
                      *where, *env_args, command)
        else:
            self.tmux("new-window", "-d", "-t", "e2e", "-n", window, *where, *env_args,
                      command)

    def screen(self, window: str = "main") -> str:
        return self.tmux("capture-pane", "-p", "-t", f"e2e:{window}", check=False)

    # A person does not press the next key before the last one showed its effect; tmux
    # would. These pauses pace the keys like a quick typist (they are not waits for a
    # result: every result is waited for by polling the screen).
    def keys(self, *keys: str) -> None:
        for k in keys:
            self.tmux("send-keys", "-t", "e2e:main", k)
            # keys that move focus get a longer beat: typing goes where focus is
            time.sleep(0.4 if k in ("Tab", "BTab", "Enter", "Escape", "/", "1", "2") else 0.2)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "e2e:main", "-l", text)
        time.sleep(0.3 + 0.01 * len(text))

    def wait(self, *needles: str, timeout: float = 30.0, window: str = "main") -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen(window)
            if all(n in text for n in needles):
                return text
            time.sleep(0.1)
        raise AssertionError(f"screen never showed {needles!r}; it shows:\n{text}")

    def wait_until(self, predicate, what: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"screen never showed {what}; it shows:\n{text}")

    def close(self) -> None:
        self.tmux("kill-server", check=False)


def cli(repo: Path, *args: str, actor: str = "alice") -> subprocess.CompletedProcess:
    env = {**os.environ, "HOTFIX_ACTOR": actor}
    return subprocess.run([str(HOTFIX), *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_incident_walkthrough_with_keys_only(term):
    demo = term.tmp / "demo"
    repo = demo / "shop-checkout"
    term.start(f"{HOTFIX} demo --dir {demo}")
    # 1. the SEV1 is open
    term.wait("SEV1", "INC-2", "Checkout fails with HTTP 500")
    # 2. start a hotfix from production
    term.keys("n")
    term.wait("Start a hotfix for INC-2", "v1.4.1 (running in production)")
    term.type("Cap gift card redemption")
    term.keys("Enter")
    # 3. pick the fix
    term.wait("Pick commits into HF-1", "Add hotfix-tui configuration", timeout=30)
    term.keys("/")
    term.type("cap gift")
    term.keys("Enter")
    term.wait_until(lambda s: "Checkout: cap gift card redemption" in s
                    and "Add hotfix-tui configuration" not in s, "the filtered commit")
    term.keys("Space", "p")
    term.wait("HF-1", "draft", "Overview", "submit: documentation", timeout=30)
    # 4. document it and tick the checklist
    term.keys("1", "Tab")  # the Overview tab's title field, then the Why field
    term.type("Gift cards larger than the order made totals negative")
    term.keys("Tab")
    term.type("Low: one function")
    term.keys("Tab")
    term.type("Unit test and the health check")
    term.keys("Tab")
    term.type("Roll back to 1.4.1")
    term.wait("Overview *")
    term.keys("C-s")
    term.wait("saved")
    term.keys("Escape", "2")
    term.wait("Root cause understood")
    term.keys("Space", "j", "Space", "j", "Space")
    term.wait_until(lambda s: s.count("[x]") == 3, "three ticked items")
    # 5. submit it
    term.keys("s")
    term.wait("in_review")
    # 6. a second person approves from another terminal; the console shows it arrive
    term.env["HOTFIX_ACTOR"] = "bob"
    term.start(f"{HOTFIX} approve HF-1 --comment 'reviewed the diff'; sleep 30",
               window="bob", cwd=repo)
    term.env["HOTFIX_ACTOR"] = "alice"
    # the header, not the toast ("HF-1 approved by bob" arrives before the reload)
    term.wait("HF-1 approved  Cap gift", "approved by bob", window="main", timeout=20)
    # 7. deploy it to staging first: the modal lists the release path, staging preselected
    term.keys("d")
    term.wait("Deploy HF-1", "staging: runs 1.4.1 now → 1.4.2", "requires staging first")
    term.keys("Tab", "Enter")
    term.wait("D-1 deploy", "staging now runs 1.4.2", timeout=60)
    term.wait("succeeded", timeout=60)
    # 8. verify it on staging, from the deploy pane: staging's health check
    term.keys("v")
    term.wait("Verify HF-1 on staging", "Run check")
    term.keys("Tab", "Tab", "Enter")
    term.wait("D-2 verify", "health check passed", timeout=60)
    shown = json.loads(cli(repo, "show", "HF-1", "--json").stdout)
    assert shown["state"] == "deployed"  # verified on staging only
    assert [(e["env"], e["state"]) for e in shown["environments"]] == [("staging", "passed")]
    # 9. then production, preselected now
    term.keys("Escape", "Escape")  # the verify run, the deploy run: back to the hotfix
    term.wait("staging verified", "→ production")
    term.keys("d")
    term.wait("Deploy HF-1", "production: runs 1.4.1 now → 1.4.2")
    term.keys("Tab", "Enter")
    term.wait("D-3 deploy", "is live", timeout=60)
    term.wait("succeeded", timeout=60)
    assert os.readlink(demo / "srv" / "production" / "current").startswith("releases/1.4.2")
    # 10. verify it on production: tick the manual check, run the health check
    term.keys("Escape")  # the deploy run: back to the hotfix
    term.wait("production verify pending")
    term.keys("v")
    term.wait("Verify HF-1 on production", "Checkout error rate back to baseline")
    term.keys("BTab", "Space", "Tab", "Tab", "Tab", "Enter")
    term.wait("D-4 verify", "health check passed", timeout=60)
    shown = cli(repo, "show", "HF-1", "--json")
    assert '"state": "verified"' in shown.stdout, shown.stdout + shown.stderr
    # 11. finish it: tag and forward-port
    term.keys("Escape")  # the verify run: back to the hotfix
    term.wait("HF-1 verified")
    term.keys("f")
    term.wait("Finish HF-1", "tag v1.4.2")
    term.keys("Tab", "Enter")
    term.wait("HF-1 finished", timeout=30)
    tags = subprocess.run(["git", "tag", "--list", "v1.4.2"], cwd=repo, capture_output=True,
                          text=True).stdout
    assert tags.strip() == "v1.4.2"
    missing = cli(repo, "missing", "HF-1")
    assert "main: contains HF-1" in missing.stdout, missing.stdout + missing.stderr
    # then a rollback drill, from the hotfix screen
    term.keys("R")
    term.wait("Rollback production", "goes back to  1.4.1")
    term.keys("BTab", "BTab")
    term.type("production")
    term.keys("Tab")
    term.type("rollback drill")
    term.keys("Enter")
    term.wait("D-5 rollback", "succeeded", timeout=60)
    term.keys("Escape", "Escape")  # the rollback run, the hotfix: back to the dashboard
    term.wait("LOCKED by alice", "rollback drill", timeout=20)
    assert os.readlink(demo / "srv" / "production" / "current").startswith("releases/1.4.1")
    term.keys("q")
