"""Cancel and timeout stop every process a run's command started, whatever it did to its
group or session (setsid, setpgid, a scrubbed environment inside a cgroup); a process
that cannot be stopped is named in the run's log and holds the environment until it is
gone or cleared. Real processes, a real runner, real cgroups where the host allows."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import uuid
from pathlib import Path

import pytest

from hotfix_tui.clock import iso, utcnow
from hotfix_tui.core.models import Actor, RunStatus
from hotfix_tui.deploy import cgroup
from hotfix_tui.deploy import procs as run_procs
from hotfix_tui.deploy.runner import request_cancel, spawn, wait_finished
from hotfix_tui.services.events import EventTail
from hotfix_tui.store import open_store
from hotfix_tui.store.runs import insert_run, read_lines, run_row
from tests.helpers import assert_one_line_error, wait_for
from tests.integration.deploy_helpers import approved_hotfix, deploy_repo, kill_every_command

PY = sys.executable

# The command ignores SIGTERM and starts children that leave its process group: one in a
# session of its own (setsid), one in a group of its own (setpgid), one that also ignores
# SIGTERM; it prints their pids, then waits.
ESCAPER = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
a = subprocess.Popen(["sleep", "600"], start_new_session=True)
b = subprocess.Popen(["sleep", "600"], process_group=0)
c = subprocess.Popen([sys.executable, "-c", "import signal, time; "
                      "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"],
                     start_new_session=True)
print("children", a.pid, b.pid, c.pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] != b"Z"


@pytest.fixture
def pids():
    """Processes a test started; any survivor is killed afterwards."""
    found: list[int] = []
    yield found
    for pid in found:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _start(tmp_path: Path, argv: list[str], **kw) -> tuple[str, int]:
    db = str(tmp_path / "x.db")
    store = open_store(db)
    try:
        with store.write():
            row = insert_run(store, env="production", kind="deploy", argv=argv,
                             workdir=str(tmp_path), started_by="alice",
                             started_by_verified=True, started_at=iso(utcnow()), **kw)
    finally:
        store.close()
    spawn(db, row["id"])
    return db, row["id"]


def _lines(db: str, did: int) -> list[str]:
    store = open_store(db)
    try:
        return [ln.text for ln in read_lines(store, did, 0, 10_000)]
    finally:
        store.close()


def _children(db: str, did: int, pids: list[int]) -> list[int]:
    line = wait_for(lambda: next((t for t in _lines(db, did) if t.startswith("children ")),
                                 None), "the children to start", timeout=30)
    found = [int(x) for x in line.split()[1:]]
    pids.extend(found)
    assert all(_alive(p) for p in found)
    return found


def test_cancel_leaves_no_setsid_or_setpgid_child(tmp_path, pids):
    db, did = _start(tmp_path, [PY, "-c", ESCAPER], cancel_grace_s=0.5)
    children = _children(db, did, pids)
    store = open_store(db)
    try:
        request_cancel(store, did, Actor("bob"), iso(utcnow()))
    finally:
        store.close()
    run = wait_finished(db, did, timeout=60)
    assert run.status is RunStatus.CANCELLED
    assert [p for p in children if _alive(p)] == []
    store = open_store(db)
    try:
        row = run_row(store, did)
        assert row["survivors"] == "[]"
        assert row["marker"].startswith("D-1.")
    finally:
        store.close()
    assert any(t.startswith("processes tracked by") and "HOTFIX_RUN=D-1." in t
               for t in _lines(db, did))


def test_timeout_leaves_no_setsid_or_setpgid_child(tmp_path, pids):
    db, did = _start(tmp_path, [PY, "-c", ESCAPER], timeout_s=3.0, cancel_grace_s=0.5)
    children = _children(db, did, pids)
    run = wait_finished(db, did, timeout=60)
    assert run.status is RunStatus.TIMED_OUT
    assert [p for p in children if _alive(p)] == []


def test_the_marker_alone_finds_and_stops_children_that_left_the_group(tmp_path, pids):
    """Where no cgroup can be made, the environment marker is the mechanism."""
    import subprocess

    marker = run_procs.new_marker("D-9")
    env = {**os.environ, run_procs.MARKER_VAR: marker}
    ignore = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
    started = [subprocess.Popen([PY, "-c", ignore], env=env, start_new_session=True),
               subprocess.Popen(["sleep", "600"], env=env, process_group=0)]
    other = subprocess.Popen(["sleep", "600"], start_new_session=True)  # not the run's
    pids.extend([p.pid for p in started] + [other.pid])
    tracked = run_procs.RunProcesses(None, marker, "")
    wait_for(lambda: sorted(tracked.pids()) == sorted(p.pid for p in started),
             "the marked processes to show")
    what, left = run_procs.stop(tracked, grace=0.3)
    for p in started:
        p.wait(timeout=10)
    assert left == [] and "HOTFIX_RUN=D-9." in what
    assert other.poll() is None, "a process without the marker is left alone"


def test_a_folder_that_is_not_a_cgroup_is_refused_and_changes_nothing(tmp_path):
    path, why = cgroup.create_in(tmp_path, "D-1.x")
    assert path is None and "is not a cgroup v2 directory" in why
    assert list(tmp_path.iterdir()) == []
    assert cgroup.members(tmp_path) == [] and cgroup.kill(tmp_path / "nothing") is False
    assert cgroup.remove(tmp_path / "nothing") is True


def _cgroups_work() -> bool:
    path, _ = cgroup.create(f"probe-{uuid.uuid4().hex[:8]}")
    if path is None:
        return False
    cgroup.remove(path)
    return True


def test_in_a_cgroup_even_a_process_that_scrubs_its_environment_is_stopped(tmp_path, pids):
    if not _cgroups_work():
        pytest.skip("this host lets this account create no cgroup: the marker is the "
                    "mechanism here (see the test above)")
    script = ("import subprocess\n"
              "p = subprocess.Popen(['env', '-i', 'sleep', '600'], start_new_session=True)\n"
              "print('children', p.pid, flush=True)\nimport time; time.sleep(600)\n")
    db, did = _start(tmp_path, [PY, "-c", script], cancel_grace_s=0.5)
    [child] = _children(db, did, pids)
    environ = Path(f"/proc/{child}/environ").read_bytes()
    assert run_procs.MARKER_VAR.encode() not in environ  # the marker cannot see it
    store = open_store(db)
    try:
        where = run_row(store, did)["cgroup"]
        assert where and cgroup.holds(where, child)
        request_cancel(store, did, Actor("bob"), iso(utcnow()))
    finally:
        store.close()
    assert wait_finished(db, did, timeout=60).status is RunStatus.CANCELLED
    assert not _alive(child)
    assert not Path(where).exists(), "the run's cgroup is removed once empty"


# ---- a survivor: stuck in the kernel (a frozen cgroup v1 freezer), so SIGKILL waits ------

FREEZER = Path("/sys/fs/cgroup/freezer")
STUCK_SH = """#!/bin/sh
setsid sleep 600 &
echo "child $!"
sleep 600
"""


@pytest.fixture
def frozen():
    """A cgroup v1 freezer: a frozen process stays in state D, so SIGKILL cannot end it
    until it is thawed (as a process stuck on a dead NFS server)."""
    if os.geteuid() != 0 or not (FREEZER / "cgroup.procs").exists():
        pytest.skip("needs root and the cgroup v1 freezer to make a process SIGKILL "
                    "cannot stop")
    path = FREEZER / f"hotfix-test-{uuid.uuid4().hex[:8]}"
    path.mkdir()

    def freeze(pid: int) -> None:
        (path / "cgroup.procs").write_text(str(pid))
        (path / "freezer.state").write_text("FROZEN")
        wait_for(lambda: (path / "freezer.state").read_text().strip() == "FROZEN", "freeze")

    def thaw() -> None:
        (path / "freezer.state").write_text("THAWED")

    freeze.thaw = thaw
    try:
        yield freeze
    finally:
        thaw()
        for pid in (path / "cgroup.procs").read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        wait_for(lambda: not (path / "cgroup.procs").read_text().split(), "thawed")
        path.rmdir()


@pytest.fixture
def stuck(tmp_path):
    svc = deploy_repo(tmp_path, files={"ops/stuck.sh": STUCK_SH},
                      extra_config='[environments.stuck]\ndeploy = ["./ops/stuck.sh"]\n'
                                   "cancel_grace_s = 1\n")
    yield svc
    kill_every_command(svc)


def _child(svc) -> int:
    line = wait_for(lambda: next((ln for ln in svc.cli("log", "D-1").out.splitlines()
                                  if ln.startswith("child ")), None), "the child", timeout=30)
    return int(line.split()[1])


def _cancel_a_run_whose_child_is_stuck(stuck, frozen) -> int:
    """D-1 deploys HF-1 to `stuck`; its child is frozen, then D-1 is cancelled; returns
    the child's pid once the cancel has ended."""
    approved_hotfix(stuck)
    assert stuck.cli("deploy", "HF-1", "--env", "stuck", "--detach").code == 0
    child = _child(stuck)
    frozen(child)
    assert stuck.cli("cancel", "D-1").code == 0
    run = wait_for(lambda: (d := stuck.cli("deploys", "--json").items()[0])["status"]
                   != "running" and d, "the cancel to end", timeout=60)
    assert run["status"] == "cancelled"
    assert [(x["pid"], x["command"]) for x in run["survivors"]] == [(child, "sleep 600")]
    return child


def test_a_survivor_is_named_and_holds_the_environment_until_it_is_gone(stuck, frozen):
    child = _cancel_a_run_whose_child_is_stuck(stuck, frozen)
    log = stuck.cli("log", "D-1").out
    assert f"survivor: pid {child} (sleep 600) as " in log
    assert _alive(child)

    approved_hotfix(stuck, "HF-2", "Second")
    refused = stuck.cli("deploy", "HF-2", "--env", "stuck")
    assert_one_line_error(refused, 1, f"process {child} (sleep 600) of cancelled deploy D-1")
    assert f"kill -KILL {child}" in refused.err and "then hotfix cancel D-1" in refused.err
    assert "hotfix cancel D-1 --clear-survivors REASON" in refused.err
    # a rollback of that environment waits too; other environments do not
    assert_one_line_error(stuck.cli("rollback", "--env", "stuck", "--reason", "x"), 1,
                          f"process {child}")
    assert stuck.cli("deploy", "HF-2", "--env", "scripted").code == 0

    # `hotfix cancel` tries again; stuck still, it says so and keeps the record
    again = stuck.cli("cancel", "D-1")
    assert_one_line_error(again, 1, f"pid {child}")
    frozen.thaw()  # the pending SIGKILL lands: gone
    wait_for(lambda: not _alive(child), "the survivor to die")
    res = stuck.cli("deploy", "HF-2", "--env", "stuck", "--detach")
    assert res.code == 0, res.err


def test_a_survivor_that_cannot_be_stopped_can_be_cleared_with_a_reason(stuck, frozen):
    child = _cancel_a_run_whose_child_is_stuck(stuck, frozen)
    assert_one_line_error(stuck.cli("cancel", "D-1", "--clear-survivors", " "), 1,
                          "needs a reason")
    res = stuck.cli("cancel", "D-1", "--clear-survivors", "stuck on a dead NFS mount; "
                    "host reboot scheduled", actor="bob")
    assert res.code == 0, res.err
    assert _alive(child)
    approved_hotfix(stuck, "HF-2", "Second")
    assert stuck.cli("deploy", "HF-2", "--env", "stuck", "--detach").code == 0
    timeline = stuck.cli("timeline", "INC-1").out.splitlines()
    [line] = [ln for ln in timeline if "D-1 survivors cleared" in ln]
    assert "bob" in line and f"{child} (sleep 600)" in line and "dead NFS mount" in line
    assert any("D-1 left processes it could not stop" in ln for ln in timeline)
    # what hooks and `hotfix watch` get: pids and accounts, never a command line
    tail = EventTail(stuck.path / ".git" / "hotfix" / "hotfix.db", since=0)
    try:
        found: list = []
        while got := tail.poll():
            found += got
        docs = {e.name: e.to_json() for e in found if e.run == "D-1"}
    finally:
        tail.close()
    assert docs["deploy.survivors"]["data"] == {"pids": [child], "accounts": [_me()]}
    assert docs["deploy.survivors"]["env"] == "stuck"
    assert docs["deploy.survivors_cleared"]["data"]["pids"] == [child]
    assert "NFS" in docs["deploy.survivors_cleared"]["data"]["reason"]
    assert "sleep" not in json.dumps(docs)


def _me() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name
