"""The README walkthrough in a real terminal: the installed `hotfix` in tmux at 80x24 and
60x20, driven with keys only, each step's keys typed at once, checked by what the screen
shows at each step and by the record."""

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
        self.size = (80, 24)
        self.env = {"TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none",
                    "HOTFIX_ACTOR": "alice", "HOME": str(tmp / "home"),
                    "XDG_CONFIG_HOME": str(tmp / "home" / ".config"),
                    "XDG_DATA_HOME": str(tmp / "home" / ".local" / "share"),
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
            width, height = self.size
            self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), "-s", "e2e",
                      "-n", window, *where, *env_args, command)
        else:
            self.tmux("new-window", "-d", "-t", "e2e", "-n", window, *where, *env_args,
                      command)

    def screen(self, window: str = "main") -> str:
        return self.tmux("capture-pane", "-p", "-t", f"e2e:{window}", check=False)

    def burst(self, *keys: str) -> None:
        """Type keys and text at once, as one write to the terminal: no pause between
        them, so every key after the first arrives before the console has reacted to
        the one before (tmux sends a word that is not a key name as its characters)."""
        self.tmux("send-keys", "-t", "e2e:main", *keys)

    def wait(self, *needles: str, timeout: float = 60.0, window: str = "main") -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen(window)
            if all(n in text for n in needles):
                return text
            time.sleep(0.1)
        raise AssertionError(f"screen never showed {needles!r}; it shows:\n{text}")

    def wait_until(self, predicate, what: str, timeout: float = 60.0) -> str:
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


def _state(repo: Path) -> str:
    shown = cli(repo, "show", "HF-1", "--json")
    return json.loads(shown.stdout)["state"] if shown.returncode == 0 else shown.stderr


ROOT = Path(__file__).resolve().parents[2]
# the run pane's own status line once its run ended well; never a toast's words (the toast
# of the run before, "D-2: verify of 1.4.2 on staging succeeded", may still be up while the
# next run is running, and a key typed then is refused: the run has not ended)
DONE = "succeeded (exit 0)"
FIELDS = ("Gift cards larger than the order made totals negative", "Low: one function",
          "Unit test and the health check", "Roll back to 1.4.1")
# Each step's keys as the README's walkthrough writes them (the phrase, word for word),
# and the keys the test types for it: a change to either shows here first.
STEPS = {
    "start": (["press `n`", "type a title, `enter`"],
              ("n", "Cap gift card redemption", "Enter")),
    "pick": (["`/` filters it (type `cap gift`, then `enter` to go back to the list), "
              "`space` marks, `p` picks"],
             ("/", "cap gift", "Enter", "Space", "p")),
    "document": (["Tab `1` (Overview): fill in why, risk, test plan and rollback plan "
                  "(`tab` moves between fields, `esc` leaves them), `ctrl+s` saves",
                  "Tab `2` (Scope): `space` ticks items (`j` moves down)"],
                 ("1", "Tab", FIELDS[0], "Tab", FIELDS[1], "Tab", FIELDS[2], "Tab",
                  FIELDS[3], "C-s", "Escape", "2", "Space", "j", "Space", "j", "Space")),
    "submit": (["**Submit it.** `s`."], ("s",)),
    "deploy": (["`d` opens the deploy dialog with the environments in promotion order",
                "the next one preselected: staging", "`enter` deploys"], ("d", "Enter")),
    "verify_staging": (["`v` in the deploy pane, then `enter` runs staging's health check"],
                       ("v", "Enter")),
    "production": (["`esc` back to the hotfix, `d`: production is preselected now",
                    "`enter` deploys. `hotfix status --hotfix HF-1`"],
                   ("Escape", "d", "Enter")),
    "verify": (["`v`, then `space` ticks the manual check and `enter` runs the health "
                "check"], ("v", "Space", "Enter")),
    "finish": (["`esc` back to the hotfix, `f`, then `tab` `enter` on **Finish**"],
               ("Escape", "f", "Tab", "Enter")),
    "rollback": (["`R` (or the red **Rollback** button",
                  "type the environment's name, `enter`, a reason, `enter`"],
                 ("R", "production", "Enter", "rollback drill", "Enter")),
}


def test_the_keys_typed_are_the_readmes():
    """The walkthrough's phrases are in the README as written (whitespace aside), so the
    keys typed below are the keys a reader types."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    walkthrough = readme.split("## An incident in the demo", 1)[1].split(" ## ", 1)[0]
    missing = [p for phrases, _ in STEPS.values() for p in phrases
               if " ".join(p.split()) not in walkthrough]
    assert not missing, missing


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_readme_walkthrough_typed_at_full_speed(term, size):
    """Each step of the README's walkthrough, its keys exactly as written there, sent in
    one burst: the console must deliver every key to the screen or field it is going
    to (screens open, fields take focus, runs start in between)."""
    term.size = size
    demo = term.tmp / "demo"
    repo = demo / "shop-checkout"
    term.start(f"{HOTFIX} demo --dir {demo}")
    # 1. the SEV1 is open
    term.wait("SEV1", "INC-2")
    # 2. start a hotfix from production: n, a title, enter
    term.burst(*STEPS["start"][1])
    # 3. pick the fix: / cap gift, enter (back to the list), space marks, p picks
    term.wait("Pick commits into HF-1", "Add hotfix-tui")
    term.burst(*STEPS["pick"][1])
    term.wait("HF-1 draft", "to submit: documentation")
    picked = subprocess.run(["git", "log", "--format=%s", "v1.4.1..hotfix/1.4.2"], cwd=repo,
                            capture_output=True, text=True).stdout.splitlines()
    assert picked == ["Checkout: cap gift card redemption at the order total"], picked
    # 4. document it (1: Overview; tab between fields; ctrl+s saves; esc leaves them),
    #    then 2: Scope, space ticks each item (j moves down)
    term.burst(*STEPS["document"][1])
    term.wait("3 items ticked")  # one toast for the three ticks
    ticked = [i for i in json.loads(cli(repo, "checklist", "HF-1", "--json").stdout)["items"]
              if not i["automatic"]]
    assert len(ticked) == 3 and all(i["checked"] for i in ticked), ticked
    doc = json.loads(cli(repo, "show", "HF-1", "--json").stdout)
    assert (doc["why"], doc["risk"], doc["test_plan"], doc["rollback_plan"]) == FIELDS, doc
    # 5. submit it
    term.burst(*STEPS["submit"][1])
    term.wait("HF-1 in_review")
    # 6. a second person approves from another terminal; the console shows it arrive
    term.env["HOTFIX_ACTOR"] = "bob"
    term.start(f"{HOTFIX} approve HF-1 --comment 'reviewed the diff'; sleep 30",
               window="bob", cwd=repo)
    term.env["HOTFIX_ACTOR"] = "alice"
    term.wait("HF-1 approved", "approvals 1/1", window="main")
    # 7. deploy it to staging first, with the live log: d, enter (staging, preselected)
    term.burst(*STEPS["deploy"][1])
    term.wait("D-1 deploy", DONE)
    # 8. verify it on staging, from the deploy pane: v, enter runs the health check
    term.burst(*STEPS["verify_staging"][1])
    term.wait("D-2 verify", DONE)
    shown = json.loads(cli(repo, "show", "HF-1", "--json").stdout)
    assert shown["state"] == "deployed"  # verified on staging only
    assert [(e["env"], e["state"]) for e in shown["environments"]] == [("staging", "passed")]
    # 9. then production: esc back to the hotfix, d (production preselected now), enter
    term.burst(*STEPS["production"][1])
    term.wait("D-3 deploy", DONE)
    assert os.readlink(demo / "srv" / "production" / "current").startswith("releases/1.4.2")
    # 10. verify it on production: v, space ticks the manual check, enter runs the check
    term.burst(*STEPS["verify"][1])
    term.wait("D-4 verify", DONE)
    assert _state(repo) == "verified"
    # 11. finish it: esc back to the hotfix, f, then tab enter on Finish
    term.burst(*STEPS["finish"][1])
    term.wait("HF-1 finished")
    tags = subprocess.run(["git", "tag", "--list", "v1.4.2"], cwd=repo, capture_output=True,
                          text=True).stdout
    assert tags.strip() == "v1.4.2"
    missing = cli(repo, "missing", "HF-1")
    assert "main: contains HF-1" in missing.stdout, missing.stdout + missing.stderr
    # the rollback drill: R, the environment's name, enter, a reason, enter
    term.burst(*STEPS["rollback"][1])
    term.wait("D-5 rollback", DONE)
    assert os.readlink(demo / "srv" / "production" / "current").startswith("releases/1.4.1")
    term.burst("Escape", "Escape")  # the rollback's log, the hotfix: back to the dashboard
    # the dashboard (its filter) with the lock on the strip; the reason may wrap there
    term.wait("LOCKED by", "filter incidents")
    production = [e for e in json.loads(cli(repo, "status", "--json").stdout)["items"]
                  if e["env"] == "production"]
    assert production[0]["locked"] and "rollback drill" in production[0]["lock_reason"]
    term.burst("q")
    term.wait_until(lambda s: "SEV1" not in s, "the console closed")
