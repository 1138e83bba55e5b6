"""Two engineers on one bastion, end to end, over real SSH.

A real sshd on 127.0.0.1, two fresh Unix accounts with no git identity, the README's
bastion steps run literally as root, and then only what each engineer types over
`ssh` (non-interactive, so umask 0022 and no profile): Alice opens, starts, picks and
documents; Bob ticks items in Alice's hotfix; Alice submits; Bob approves, signing
with the key in the agent on his own machine, forwarded with `ssh -A` (signatures are
required; without the agent his approval is refused), and Alice cannot; Alice deploys
over `ssh -tt` and loses her connection; Bob follows the log to the end; Bob's console,
over `ssh -tt` in tmux at 80x24, shows Alice's new incident without a key press.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import stat
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.accounts import bastion_setup, make_team
from tests.helpers import make_service_repo, wait_for
from tests.sshd import Sshd, start_sshd
from tests.sshkeys import Agent, make_key

pytestmark = pytest.mark.e2e

TMUX = shutil.which("tmux")
STEPS = 60
DEPLOY = f"""#!/bin/sh
i=1
while [ $i -le {STEPS} ]; do echo "step $i of {STEPS}"; sleep 0.1; i=$((i + 1)); done
"""
CONFIG = """\
[approvals]
signatures = "required"

[scope]
max_files = 5
max_lines = 50
checklist = ["Root cause understood", "Rollback plan tested or obvious"]

[environments.production]
deploy = ["./ops/deploy.sh"]
"""


@pytest.fixture
def bastion():
    gen = make_team()
    team = next(gen)
    server = None
    try:
        # Bob's signing key lives on his own machine; the repository lists it as his.
        signer = make_key(team.root / "bob-laptop" / "keys", "bob-signing")
        origin = make_service_repo(team.root / "origin", config=CONFIG, extra={
            "ops/deploy.sh": DEPLOY,
            ".hotfix/allowed_signers": signer.allowed_line(team.bob.name)})
        shop = bastion_setup(team, origin.path)
        server = start_sshd(team)
        yield team, server, shop, origin, signer
    finally:
        if server is not None:
            server.stop()
        gen.close()


def over_ssh(server: Sshd, who, shop: Path, *args: str,
             agent: Agent | None = None) -> subprocess.CompletedProcess:
    command = f"cd {shlex.quote(str(shop))} && hotfix " + " ".join(map(shlex.quote, args))
    return server.run(who, command, agent=agent.socket if agent else None)


def ok(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 0, (res.returncode, res.stdout, res.stderr)
    return res.stdout


def stored_lines(db: Path, key: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT lines FROM deploys WHERE key = ?", (key,)).fetchone()
        return row[0] if row else 0
    finally:
        conn.close()


class Console:
    """Bob's terminal: tmux at 80x24, running `ssh -tt` to the bastion."""

    def __init__(self, server: Sshd, who, shop: Path) -> None:
        self.socket = f"hotfix-ssh-{uuid.uuid4().hex[:8]}"
        # The shell in the pane reaps ssh and prints how it ended: tmux's own record of
        # a pane's exit (pane_dead_status) is sometimes never filled in (tmux 3.3a can
        # leave the child a zombie), so the test reads the shell's line instead.
        command = shlex.join(server.argv(who, f"cd {shlex.quote(str(shop))} && hotfix",
                                         tty=True)) + '; echo "console exit: $?"'
        env = {**server.client_env(), "TERM": "xterm-256color"}
        self.env = env
        self.tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", "bob", command)
        self.tmux("set-option", "-t", "bob", "remain-on-exit", "on")

    def tmux(self, *args: str) -> str:
        proc = subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True,
                              text=True, timeout=30, env=self.env)
        return proc.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "bob")

    def everything(self) -> str:
        """The screen and what scrolled off it (a dead pane's last lines are there)."""
        return self.tmux("capture-pane", "-p", "-S", "-", "-t", "bob")

    def exit_status(self) -> str | None:
        """How ssh ended ("0", "255"...), once it has; None while it runs."""
        found = re.search(r"^console exit: (\d+)$", self.everything(), re.MULTILINE)
        return found.group(1) if found else None

    def close(self) -> None:
        self.tmux("kill-server")


def test_two_engineers_on_one_bastion_over_ssh(bastion):
    team, server, shop, origin, signer = bastion
    alice, bob = team.alice, team.bob
    db = shop / ".git" / "hotfix" / "hotfix.db"

    # Alice opens the incident, starts the hotfix, picks the fix and documents it.
    ok(over_ssh(server, alice, shop, "incident", "open", "--title",
                "Checkout fails with HTTP 500", "--sev", "1"))
    ok(over_ssh(server, alice, shop, "start", "--incident", "INC-1", "--title",
                "Fix checkout totals"))
    picked = over_ssh(server, alice, shop, "pick", "HF-1", origin.fix)
    ok(picked)
    assert "note: git has no identity" in picked.stderr
    ok(over_ssh(server, alice, shop, "edit", "HF-1", "--why", "totals ignore quantity",
                "--risk", "low", "--test-plan", "unit tests", "--rollback-plan",
                "roll back to v1.4.1"))

    # Bob ticks the checklist in Alice's hotfix: a hand-off into her worktree.
    ok(over_ssh(server, bob, shop, "check", "HF-1", "1"))
    ok(over_ssh(server, bob, shop, "check", "HF-1", "2"))

    # Alice submits. Bob approves: signatures are required, so without his agent the
    # approval is refused with the fix; with the agent on his machine (his signing key
    # added) forwarded by `ssh -A`, it is signed. Alice cannot approve her own work.
    ok(over_ssh(server, alice, shop, "submit", "HF-1"))
    unsigned = over_ssh(server, bob, shop, "approve", "HF-1")
    assert unsigned.returncode == 1, unsigned
    assert "SSH_AUTH_SOCK is not set" in unsigned.stderr and "ssh -A" in unsigned.stderr
    laptop = Agent(team.root / "bob-laptop")
    try:
        laptop.add(signer)
        ok(over_ssh(server, bob, shop, "approve", "HF-1", agent=laptop))
    finally:
        laptop.stop()
    approval = json.loads(ok(over_ssh(server, alice, shop, "show", "HF-1", "--json"))
                          )["approvals"][0]
    assert approval["approver"] == bob.name
    assert approval["signature"] == {"signed": True, "principal": bob.name,
                                     "key_fingerprint": signer.fingerprint(), "valid": True,
                                     "reason": None}
    own = over_ssh(server, alice, shop, "approve", "HF-1")
    assert own.returncode == 1 and own.stderr.startswith("error: "), own.stderr
    assert "Traceback" not in own.stderr

    # Alice deploys over ssh -tt and her connection drops mid-run.
    deploying = subprocess.Popen(
        server.argv(alice, f"cd {shlex.quote(str(shop))} && hotfix deploy HF-1 "
                    "--env production", tty=True),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=server.client_env({"TERM": "xterm-256color"}))
    wait_for(lambda: stored_lines(db, "D-1") >= 5, "the deploy's first lines")
    deploying.send_signal(signal.SIGKILL)
    deploying.wait(timeout=10)
    assert stored_lines(db, "D-1") < STEPS, "the connection must drop mid-run"

    # Bob follows the log from his own account and sees the run end, every line.
    followed = over_ssh(server, bob, shop, "log", "D-1", "--follow")
    out = ok(followed)
    steps = [ln.split("step ", 1)[1] for ln in out.splitlines() if "step " in ln]
    assert steps == [f"{i} of {STEPS}" for i in range(1, STEPS + 1)]
    shown = ok(over_ssh(server, bob, shop, "show", "HF-1", "--json"))
    assert '"state": "deployed"' in shown

    # Bob's console shows what Alice does, without a key press; q leaves cleanly.
    if TMUX is None:
        pytest.skip("tmux is not installed (see .ci/run)")
    console = Console(server, bob, shop)
    try:
        wait_for(lambda: "INC-1" in console.screen(), "bob's console", timeout=60)
        ok(over_ssh(server, alice, shop, "incident", "open", "--title",
                    "Payments degraded", "--sev", "2"))
        seen = time.monotonic()
        wait_for(lambda: "INC-2" in console.screen(), "alice's incident on bob's screen",
                 timeout=2.0)
        assert time.monotonic() - seen <= 2.0
        console.tmux("send-keys", "-t", "bob", "q")
        try:
            status = wait_for(console.exit_status, "the console to quit", timeout=15)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; screen:\n{console.everything()}") from None
        assert status == "0", (status, console.everything())
        assert "Traceback" not in console.everything()
    finally:
        console.close()

    # Everything the tool made in the shared clone is the group's, group-writable.
    git_dir = shop / ".git"
    made = [p for p in git_dir.rglob("*") if p.lstat().st_uid in (alice.uid, bob.uid)
            and "objects" not in p.relative_to(git_dir).parts]
    assert any("worktrees" in p.parts for p in made) and db in made
    narrow = [p for p in made if not p.is_symlink()
              and (not p.lstat().st_mode & stat.S_IWGRP or p.lstat().st_gid != team.gid)]
    assert narrow == [], [(str(p), oct(p.lstat().st_mode)) for p in narrow]

    # The setup is healthy from both accounts; the record verifies and names both.
    for who in (alice, bob):
        res = over_ssh(server, who, shop, "doctor")
        assert res.returncode == 0, res.stdout + res.stderr
        assert "FAIL" not in res.stdout
    verified = json.loads(ok(over_ssh(server, bob, shop, "audit", "verify", "--json")))
    assert verified["ok"] and verified["signatures"]["valid"] == 1, verified
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        actors = {a for (a,) in conn.execute("SELECT DISTINCT actor FROM audit_events")}
        verified = {v for (v,) in conn.execute("SELECT DISTINCT actor_verified "
                                                "FROM audit_events")}
    finally:
        conn.close()
    assert {alice.name, bob.name} <= actors and verified == {1}
    assert os.path.isdir(shop / ".git" / "hotfix" / "runs")
