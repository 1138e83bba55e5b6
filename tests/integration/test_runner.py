"""The detached runner with real processes and a real SQLite file: no mocks."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from hotfix_tui.clock import iso, utcnow
from hotfix_tui.core.errors import IllegalTransition
from hotfix_tui.core.models import Actor, LogLine, RunStatus
from hotfix_tui.deploy.follow import follow
from hotfix_tui.deploy.lifecycle import effective_status, reap_lost_runs
from hotfix_tui.deploy.logtext import CONTROL
from hotfix_tui.deploy.runner import request_cancel, spawn, wait_finished
from hotfix_tui.store import open_store
from hotfix_tui.store.runs import insert_run, read_lines, run_row

PY = sys.executable


# -- helpers ---------------------------------------------------------------------------


def new_run(tmp_path: Path, argv: list[str], env: str = "production", **kw) -> tuple[str, int]:
    db = str(tmp_path / "x.db")
    store = open_store(db)
    try:
        with store.write():
            row = insert_run(store, env=env, kind="deploy", argv=argv,
                             workdir=kw.pop("workdir", str(tmp_path)), started_by="alice",
                             started_by_verified=True, started_at=iso(utcnow()), **kw)
        return db, row["id"]
    finally:
        store.close()


def start(tmp_path: Path, argv: list[str], **kw) -> tuple[str, int]:
    db, deploy_id = new_run(tmp_path, argv, **kw)
    spawn(db, deploy_id)
    return db, deploy_id


def all_lines(db: str, deploy_id: int) -> list[LogLine]:
    store = open_store(db)
    try:
        out: list[LogLine] = []
        while True:
            page = read_lines(store, deploy_id, out[-1].seq if out else 0, limit=50_000)
            out.extend(page)
            if len(page) < 50_000:
                return out
    finally:
        store.close()


def row_of(db: str, deploy_id: int):
    store = open_store(db)
    try:
        return run_row(store, deploy_id)
    finally:
        store.close()


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    """Poll until predicate() is truthy; its value is returned."""
    deadline = utcnow() + timedelta(seconds=timeout)
    event = threading.Event()
    while True:
        value = predicate()
        if value:
            return value
        if utcnow() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        event.wait(0.02)


def wait_for_line(db: str, deploy_id: int, text: str) -> list[LogLine]:
    return wait_for(lambda: (lines := all_lines(db, deploy_id))
                    and any(ln.text == text for ln in lines) and lines, what=repr(text))


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group `pgid`, read from /proc."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != b"Z":
            found.append(int(name))
    return found


def pid_dead(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2:][:1] == b"Z"


def sys_lines(lines: list[LogLine]) -> list[str]:
    return [ln.text for ln in lines if ln.stream == "sys"]


@pytest.fixture
def groups():
    """Process groups a test started; any survivor is killed afterwards."""
    pgids: list[int] = []
    yield pgids
    for pgid in pgids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


# -- output ----------------------------------------------------------------------------


def test_every_line_of_a_fast_command_is_stored_in_order(tmp_path):
    code = ("import sys\nw = sys.stdout.write\nfor i in range(200000):\n    w(f'{i}\\n')\n"
            "sys.stderr.write('to stderr\\n')\n")
    db, did = start(tmp_path, [PY, "-c", code])
    run = wait_finished(db, did, timeout=60)
    assert run.status is RunStatus.SUCCEEDED and run.exit_code == 0
    lines = all_lines(db, did)
    assert [ln.text for ln in lines if ln.stream == "out"] == [str(i) for i in range(200000)]
    assert [ln.text for ln in lines if ln.stream == "err"] == ["to stderr"]
    assert [ln.seq for ln in lines] == list(range(1, len(lines) + 1))
    assert run.lines == len(lines)
    row = row_of(db, did)
    assert row["bytes"] == sum(len(str(i)) + 1 for i in range(200000)) + len("to stderr\n")
    assert row["truncated"] == 0 and row["dropped_bytes"] == 0
    texts = sys_lines(lines)
    assert texts[0].startswith(f"$ {PY} -c ")
    assert texts[-1] == "exit 0"


def test_hostile_output_is_stored_safely_with_flags(tmp_path):
    parts = [
        b"plain\n",
        b"bad \xff\xfe utf8\n",
        b"nul\x00byte\n",
        b"\x1b[1;31mred\x1b[0m \x1b]0;title\x07done\n",
        b"windows\r\n",
        b"x" * (1 << 20) + b"\n",
        b"after the long line\n",
        b"y" * (1 << 20),  # the last line has no newline
    ]
    code = f"import sys\nfor p in {parts!r}:\n    sys.stdout.buffer.write(p)\n"
    script = tmp_path / "hostile.py"
    script.write_text(code)
    db, did = start(tmp_path, [PY, str(script)])
    run = wait_finished(db, did, timeout=30)
    assert run.status is RunStatus.SUCCEEDED
    out = [(ln.text, ln.flags) for ln in all_lines(db, did) if ln.stream == "out"]
    assert out == [
        ("plain", 0),
        ("bad \ufffd\ufffd utf8", LogLine.INVALID_UTF8),
        ("nul\u2400byte", CONTROL),
        ("red done", LogLine.HAD_ANSI),
        ("windows", 0),
        ("x" * 65536, LogLine.TRUNCATED),
        ("after the long line", 0),
        ("y" * 65536, LogLine.TRUNCATED),
    ]
    assert row_of(db, did)["bytes"] == sum(map(len, parts))


def test_log_cap_keeps_whole_lines_and_marks_the_run_truncated(tmp_path):
    code = "for i in range(1000):\n    print(f'{i:099d}')\n"  # 100 bytes a line
    db, did = start(tmp_path, [PY, "-c", code], max_log_bytes=10_000)
    run = wait_finished(db, did, timeout=30)
    assert run.status is RunStatus.SUCCEEDED and run.truncated
    lines = all_lines(db, did)
    assert [ln.text for ln in lines if ln.stream == "out"] == [f"{i:099d}" for i in range(100)]
    row = row_of(db, did)
    assert (row["bytes"], row["dropped_bytes"], row["truncated"]) == (10_000, 90_000, 1)
    marker = sys_lines(lines)[-2]
    assert "log limit" in marker and "90000 bytes" in marker
    assert row["lines"] == len(lines)


# -- outcomes ----------------------------------------------------------------------------


def test_exit_code_signal_workdir_and_env(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    exit3 = ("import os, sys\nprint(os.getcwd())\nprint(len(os.environ['DEPLOY_TOKEN']))\n"
             "sys.exit(3)\n")
    killed = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
    db, a = start(tmp_path, [PY, "-c", exit3], workdir=str(work),
                  env_vars={"DEPLOY_TOKEN": "hunter2-secret"})
    _, b = start(tmp_path, [PY, "-c", killed], env="staging")
    ra, rb = wait_finished(db, a, timeout=30), wait_finished(db, b, timeout=30)

    assert (ra.status, ra.exit_code, ra.signal) == (RunStatus.FAILED, 3, None)
    lines = all_lines(db, a)
    assert [ln.text for ln in lines if ln.stream == "out"] == [str(work), "14"]
    assert sys_lines(lines)[-1] == "exit 3"
    assert not any("hunter2" in ln.text for ln in lines)

    assert (rb.status, rb.exit_code, rb.signal) == (RunStatus.FAILED, None, 9)
    assert sys_lines(all_lines(db, b))[-1] == "killed by signal 9 (SIGKILL)"


def test_a_program_that_cannot_start_fails_with_a_reason(tmp_path):
    script = tmp_path / "not-executable.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    db, a = start(tmp_path, [str(tmp_path / "no-such-tool"), "--deploy"])
    _, b = start(tmp_path, [str(script)], env="staging")
    _, c = start(tmp_path, ["true"], env="qa", workdir=str(tmp_path / "gone"))
    ra, rb, rc = (wait_finished(db, n, timeout=30) for n in (a, b, c))
    assert (ra.status, ra.exit_code) == (RunStatus.FAILED, 127)
    assert "no-such-tool: No such file or directory" in sys_lines(all_lines(db, a))[-1]
    if os.geteuid() != 0:  # root may execute anything
        assert (rb.status, rb.exit_code) == (RunStatus.FAILED, 126)
        assert "Permission denied" in sys_lines(all_lines(db, b))[-1]
    assert (rc.status, rc.exit_code) == (RunStatus.FAILED, 127)
    assert "working directory" in sys_lines(all_lines(db, c))[-1]


def test_a_runner_error_is_logged_and_fails_the_run(tmp_path):
    db, did = new_run(tmp_path, ["true"])
    store = open_store(db)
    try:
        with store.write():  # a row the runner cannot understand
            store.execute("UPDATE deploys SET env_vars = '{oops' WHERE id = ?", (did,))
    finally:
        store.close()
    spawn(db, did)
    run = wait_finished(db, did, timeout=30)
    assert run.status is RunStatus.FAILED
    assert sys_lines(all_lines(db, did))[-1].startswith("runner error: JSONDecodeError")


# -- detachment and loss ---------------------------------------------------------------


def test_the_run_survives_the_death_of_the_process_that_spawned_it(tmp_path):
    flag = tmp_path / "go"
    code = (f"import os, time\nwhile not os.path.exists({str(flag)!r}):\n    time.sleep(0.02)\n"
            "print('finished')\n")
    db, did = new_run(tmp_path, [PY, "-c", code])
    caller_code = ("import sys, time\nfrom hotfix_tui.deploy.runner import spawn\n"
                   "spawn(sys.argv[1], int(sys.argv[2]))\nprint('spawned', flush=True)\n"
                   "time.sleep(600)\n")
    caller = subprocess.Popen([PY, "-c", caller_code, db, str(did)], stdout=subprocess.PIPE,
                              text=True, start_new_session=True)
    assert caller.stdout is not None
    assert caller.stdout.readline().strip() == "spawned"
    caller_stdout = os.readlink(f"/proc/{caller.pid}/fd/1")  # a pipe the runner must not hold
    os.killpg(caller.pid, signal.SIGKILL)  # the caller and everything in its group
    caller.wait()
    caller.stdout.close()

    row = wait_for(lambda: (r := row_of(db, did))["pgid"] and r, what="the command to start")
    pid = row["pid"]
    assert b"hotfix_tui.deploy.runner" in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert os.getsid(pid) != os.getsid(0) and os.getsid(pid) != caller.pid
    for fd in ("0", "1", "2"):
        assert os.readlink(f"/proc/{pid}/fd/{fd}") == "/dev/null"
    held = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    assert caller_stdout not in held
    assert all(t == "/dev/null" or t.startswith((db, "pipe:", "anon_inode:")) for t in held), held
    # Silent command: the heartbeat still moves.
    beat = row["heartbeat_at"]
    wait_for(lambda: row_of(db, did)["heartbeat_at"] != beat, what="a heartbeat")

    flag.touch()
    run = wait_finished(db, did, timeout=30)
    assert run.status is RunStatus.SUCCEEDED
    assert "finished" in [ln.text for ln in all_lines(db, did)]


def test_a_killed_runner_reads_as_interrupted_and_keeps_its_lines(tmp_path, groups):
    code = ("import time\nfor i in range(20):\n    print(f'tick {i}', flush=True)\n"
            "    time.sleep(0.01)\nprint('READY', flush=True)\ntime.sleep(600)\n")
    db, did = start(tmp_path, [PY, "-c", code])
    before = wait_for_line(db, did, "READY")
    row = row_of(db, did)
    groups.append(row["pgid"])
    os.kill(row["pid"], signal.SIGKILL)

    run = wait_finished(db, did, timeout=10)
    assert run.status is RunStatus.INTERRUPTED
    after = all_lines(db, did)
    assert after[:len(before)] == before
    assert [f"tick {i}" for i in range(20)] + ["READY"] == [
        ln.text for ln in after if ln.stream == "out"]

    store = open_store(db)
    try:
        assert effective_status(run_row(store, did)) is RunStatus.INTERRUPTED
        assert reap_lost_runs(store, Actor("ops")) == [run.key]
        assert run_row(store, did)["status"] == "interrupted"
    finally:
        store.close()


# -- cancel and timeout ------------------------------------------------------------------

STUBBORN = 'trap "" TERM; sleep 600 & sleep 600 & echo started; wait'


def test_cancel_kills_the_whole_group_even_when_it_ignores_sigterm(tmp_path, groups):
    db, did = start(tmp_path, ["bash", "-c", STUBBORN], cancel_grace_s=1.0)
    wait_for_line(db, did, "started")
    pgid = row_of(db, did)["pgid"]
    groups.append(pgid)
    assert len(wait_for(lambda: len(group_members(pgid)) >= 3 and group_members(pgid),
                        what="bash and two sleeps")) >= 3

    store = open_store(db)
    try:
        asked = time.monotonic()
        request_cancel(store, did, Actor("bob"), iso(utcnow()))
        request_cancel(store, did, Actor("carol"), iso(utcnow()))  # the first request stands
    finally:
        store.close()
    # The bound: no process of the group is left after cancel_grace_s + 2 s.
    bound = asked + 1.0 + 2.0
    while group_members(pgid) and time.monotonic() < bound:
        time.sleep(0.05)
    assert group_members(pgid) == [], "a process outlived cancel_grace_s + 2 s"
    run = wait_finished(db, did, timeout=30)
    assert group_members(pgid) == []
    with pytest.raises(ProcessLookupError):  # not even a zombie: the runner reaped them
        os.killpg(pgid, 0)
    assert run.status is RunStatus.CANCELLED and run.cancelled_by == "bob"
    assert run.signal == signal.SIGKILL
    texts = sys_lines(all_lines(db, did))
    assert any(t.startswith("cancelled by bob: sending SIGTERM to process group") for t in texts)
    assert texts[-1] == "cancelled by bob (killed by signal 9 (SIGKILL))"

    store = open_store(db)
    try:
        actions = [r[0] for r in store.all(
            "SELECT action FROM audit_events WHERE entity_key = ? ORDER BY id", (run.key,))]
        assert actions == ["deploy.cancel_requested", "deploy.cancelled"]
        with pytest.raises(IllegalTransition):
            request_cancel(store, did, Actor("bob"), iso(utcnow()))
    finally:
        store.close()


def test_timeout_stops_the_group_and_records_timed_out(tmp_path, groups):
    argv = ["bash", "-c", 'trap "" TERM; sleep 600 & echo started; sleep 600']
    db, did = start(tmp_path, argv, timeout_s=1.0, cancel_grace_s=1.0)
    wait_for(lambda: row_of(db, did)["pgid"], what="the command to start")
    pgid = row_of(db, did)["pgid"]
    groups.append(pgid)
    run = wait_finished(db, did, timeout=30)
    assert run.status is RunStatus.TIMED_OUT
    assert group_members(pgid) == []
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)
    texts = sys_lines(all_lines(db, did))
    assert texts[-1].startswith("timed out after 1s")


def test_cancel_after_the_runner_died_kills_the_group_itself(tmp_path, groups):
    db, did = start(tmp_path, ["bash", "-c", STUBBORN], cancel_grace_s=0.5)
    wait_for_line(db, did, "started")
    row = row_of(db, did)
    pgid = row["pgid"]
    groups.append(pgid)
    os.kill(row["pid"], signal.SIGKILL)
    wait_for(lambda: pid_dead(row["pid"]), what="the runner to die")
    store = open_store(db)
    try:
        # The runner died a while ago: its last heartbeat is old.
        old = iso(utcnow() - timedelta(seconds=30))
        with store.write():
            store.execute("UPDATE deploys SET heartbeat_at = ? WHERE id = ?", (old, did))
        wait_for(lambda: effective_status(run_row(store, did)) is RunStatus.INTERRUPTED,
                 what="the runner to read as lost")
        request_cancel(store, did, Actor("bob"), iso(utcnow()))
        row = run_row(store, did)
    finally:
        store.close()
    assert row["status"] == "cancelled"
    assert group_members(pgid) == []
    last = all_lines(db, did)[-1]
    assert last.stream == "sys" and last.text.startswith("cancelled by bob: runner gone;")
    assert row["lines"] == last.seq


# -- following ---------------------------------------------------------------------------


def test_follow_yields_every_line_then_ends(tmp_path):
    code = ("import time\nfor i in range(5):\n    print(f'step {i}', flush=True)\n"
            "    time.sleep(0.05)\n")
    db, did = start(tmp_path, [PY, "-c", code])
    seen = list(follow(db, did, poll=0.02))
    assert [ln.seq for ln in seen] == list(range(1, len(seen) + 1))
    assert [ln.text for ln in seen if ln.stream == "out"] == [f"step {i}" for i in range(5)]
    assert seen[-1].text == "exit 0"
    assert list(follow(db, did, after_seq=seen[-2].seq)) == [seen[-1]]


def test_follow_stops_when_asked(tmp_path, groups):
    db, did = start(tmp_path, [PY, "-c", "print('up', flush=True)\nimport time\n"
                                         "time.sleep(600)\n"], cancel_grace_s=0)
    stop = threading.Event()
    seen = []
    for line in follow(db, did, poll=0.02, stop=stop):
        seen.append(line)
        if line.text == "up":
            stop.set()
    assert seen[-1].text == "up"
    groups.append(row_of(db, did)["pgid"])
    store = open_store(db)
    try:
        request_cancel(store, did, Actor("alice"), iso(utcnow()))
    finally:
        store.close()
    assert wait_finished(db, did, timeout=30).status is RunStatus.CANCELLED
