"""A full disk under the database: the runner's own error reaches the run's record, and
the outcome says what is known (the command's exit) and what is not (the output the store
refused). A real full disk: a small tmpfs holds the database (mounting needs root)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.helpers import wait_for
from tests.integration.deploy_helpers import approved_hotfix, deploy_repo

# a first line, then (once the disk is all but full) about 6 MiB of output, far more
# than the disk has left, then a last word
NOISY_SH = """#!/bin/sh
echo "deploying $1"
while [ ! -e "$2" ]; do sleep 0.05; done
i=0
while [ $i -lt 60000 ]; do
  echo "line $i: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
  i=$((i + 1))
done
echo "deployed $1"
"""


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs (a real full disk)")
    where = tmp_path / "small"
    where.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs",
                          str(where)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(disk: Path, leave: int) -> None:
    """Take all the space on `disk` but `leave` bytes."""
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    with open(disk / "filler", "wb") as f:
        f.write(b"\0" * max(free - leave, 0))


def test_a_full_disk_is_reported_and_the_outcome_says_what_is_known(tmp_path, small_disk):
    go = tmp_path / "go"
    svc = deploy_repo(tmp_path, files={"ops/noisy.sh": NOISY_SH},
                      extra_config='[environments.noisy]\ndeploy = ["./ops/noisy.sh", '
                                   f'"{{version}}", "{go}"]\ntimeout_s = 120\n')
    approved_hotfix(svc)
    # the team's database, moved onto the small disk, which is then all but full
    db = small_disk / "hotfix.db"
    src = sqlite3.connect(svc.path / ".git" / "hotfix" / "hotfix.db")
    dst = sqlite3.connect(db)
    src.backup(dst)
    src.close()
    dst.close()
    env = {"HOTFIX_DB": str(db)}
    assert svc.cli("status", env=env).code == 0
    res = svc.cli("deploy", "HF-1", "--env", "noisy", "--detach", env=env)
    assert res.code == 0, res.err
    wait_for(lambda: "deploying 1.4.2" in svc.cli("log", "D-1", env=env).out, "the deploy")
    # the disk fills up while the deploy runs (another program's log, say)
    _fill(small_disk, leave=128 * 1024)
    go.touch()
    wait_for(lambda: svc.cli("log", "D-1", "--json", env=env).json()["run"]["status"]
             != "running", "the deploy to end", timeout=120)
    doc = svc.cli("log", "D-1", "--json", env=env).json()
    run, lines = doc["run"], doc["lines"]
    # known: the command finished, and how; so the environment runs the new release
    assert run["status"] == "succeeded" and run["exit_code"] == 0, [ln["text"] for ln in lines[-3:]]
    status = {s["env"]: s for s in svc.cli("status", "--json", env=env).items()}
    assert status["noisy"]["version"] == "1.4.2"
    # not known: the output the store refused, which the record says, with the error
    assert run["truncated"] is True
    assert [ln["seq"] for ln in lines] == list(range(1, len(lines) + 1))
    stored = [ln["text"] for ln in lines if ln["stream"] == "out"]
    assert stored[0] == "deploying 1.4.2" and "deployed 1.4.2" not in stored
    assert len(stored) < 60000
    # the runner said so when it happened, at the first line it could not store …
    [said] = [ln for ln in lines if ln["text"].startswith("the store refused the log")]
    assert said["stream"] == "sys" and said["seq"] == len(stored) + 1 + sum(
        1 for ln in lines[:said["seq"] - 1] if ln["stream"] == "sys")
    assert said["text"].startswith(f"the store refused the log from line {said['seq']} on: "
                                   "database or disk is full")
    # … and the outcome says what is known (the exit) and what is not (the output lost)
    last = lines[-1]["text"]
    assert last.startswith(f"exit 0; the store refused the log from line {said['seq']} on "
                           "(database or disk is full): "), last
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        note = conn.execute("SELECT json_extract(data, '$.note') FROM audit_events WHERE "
                            "action = 'deploy.succeeded'").fetchone()[0]
        kept, lost = conn.execute("SELECT bytes, dropped_bytes FROM deploys").fetchone()
    finally:
        conn.close()
    total = len(subprocess.run([str(svc.path / "ops" / "noisy.sh"), "1.4.2", str(go)],
                               capture_output=True, check=True).stdout)
    assert kept + lost == total and lost > total // 2
    assert last.endswith(f": {lost} bytes of output ({lost / (1 << 20):.1f} MiB) not stored")
    assert note == last  # the outcome's event says the same
