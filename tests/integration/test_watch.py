"""`hotfix watch`: events of other processes as they are committed, resuming after a
restart, ending cleanly, and cheap while idle."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hotfix_tui.clock import iso, utcnow
from hotfix_tui.core.models import Actor
from hotfix_tui.store import audit, open_store
from tests.helpers import GIT_ENV, assert_one_line_error, make_service_repo, run_proc

HOTFIX = str(Path(sys.executable).parent / "hotfix")
IDLE_SECONDS = 10.0


class Watch:
    """`hotfix watch …` in a real process, its stdout read line by line on a thread."""

    def __init__(self, repo: Path, *args: str) -> None:
        env = {**os.environ, **GIT_ENV, "HOTFIX_ACTOR": "alice"}
        self.proc = subprocess.Popen([HOTFIX, "watch", *args], cwd=repo, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def next(self, timeout: float = 30.0) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line from hotfix watch within {timeout:g}s") from None

    def event(self, timeout: float = 30.0) -> dict:
        return json.loads(self.next(timeout))

    def interrupt(self) -> tuple[int, str]:
        """SIGINT, as Ctrl-C sends it; (exit status, stderr)."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=30)
        return code, self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def shop(tmp_path):
    svc = make_service_repo(tmp_path / "shop")
    assert svc.cli("incident", "open", "--title", "Checkout 500", "--sev", "1").code == 0
    return svc


def _cli(svc, *args: str, actor: str = "bob") -> None:
    """A second process changes the database."""
    res = run_proc(list(args), cwd=svc.path, env={"HOTFIX_ACTOR": actor})
    assert res.code == 0, res.err


def test_watch_sees_another_process_within_a_second_and_resumes_after_a_restart(shop):
    watch = Watch(shop.path, "--json", "--since", "0")
    try:
        first = watch.event()
        assert first["seq"] == 1 and first["event"] == "incident.opened"
        time.sleep(2)  # idle long enough to be at its longest wait between looks
        _cli(shop, "incident", "mitigate", "INC-1")
        seen = watch.event(timeout=1.0)  # committed by another process: within a second
        assert seen["event"] == "incident.mitigated" and seen["actor"] == "bob"
        code, err = watch.interrupt()
        assert code == 0 and err == ""
    finally:
        watch.kill()
    # while nobody watches
    _cli(shop, "incident", "resolve", "INC-1")
    again = Watch(shop.path, "--json", "--since", str(seen["seq"]))
    try:
        missed = again.event()
        assert missed["event"] == "incident.resolved" and missed["seq"] == seen["seq"] + 1
        _cli(shop, "incident", "reopen", "INC-1")
        assert again.event()["event"] == "incident.reopened"
        code, err = again.interrupt()
        assert code == 0 and err == ""
    finally:
        again.kill()
    assert again.lines.empty()  # nothing twice, nothing extra


def test_watch_is_cheap_while_idle(shop):
    """CPU time of `hotfix watch` over 10 idle seconds, from the kernel's accounting of the
    process (os.wait4 → resource usage): the same command interrupted at once is the
    baseline (start-up), so the difference is what idling cost."""

    def cpu_seconds(idle: float) -> float:
        watch = Watch(shop.path, "--json", "--since", "0")
        try:
            assert watch.event()["seq"] == 1  # started and caught up: from here on, idle
            time.sleep(idle)
            watch.proc.send_signal(signal.SIGINT)
            _, status, usage = os.wait4(watch.proc.pid, 0)
            watch.proc.returncode = os.waitstatus_to_exitcode(status)
        finally:
            watch.kill()
        assert watch.proc.returncode == 0
        return usage.ru_utime + usage.ru_stime

    baseline = cpu_seconds(0.0)
    idle = cpu_seconds(IDLE_SECONDS)
    assert idle - baseline < 0.01 * IDLE_SECONDS, (idle, baseline)


def test_a_closed_pipe_ends_watch_quietly(shop):
    env = {**os.environ, **GIT_ENV, "HOTFIX_ACTOR": "alice"}
    proc = subprocess.Popen([HOTFIX, "watch", "--json", "--since", "0"], cwd=shop.path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert json.loads(proc.stdout.readline())["seq"] == 1
        proc.stdout.close()  # the reader goes away (as `hotfix watch | head -1`)
        _cli(shop, "incident", "mitigate", "INC-1")
        code = proc.wait(timeout=30)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, err
    assert err == ""


def test_sigterm_ends_watch_with_exit_status_0(shop):
    watch = Watch(shop.path, "--since", "0")
    try:
        assert "incident.opened" in watch.next()
        watch.proc.send_signal(signal.SIGTERM)
        assert watch.proc.wait(timeout=30) == 0
        assert watch.proc.stderr.read() == ""
    finally:
        watch.kill()


def test_watch_one_incident_in_text_with_control_characters_neutralised(shop):
    assert shop.cli("incident", "open", "--title", "Pay fails", "--sev", "2").code == 0
    assert shop.cli("incident", "mitigate", "INC-1").code == 0
    # the commands refuse control characters; a title written by another tool may hold them
    with open_store(shop.path / ".git" / "hotfix" / "hotfix.db") as store, store.write():
        audit.append(store, Actor("mallory"), iso(utcnow()), "incident", "INC-2",
                     "incident.commander", before={"commander": "alice"},
                     after={"commander": "eve\x1b[31m\x07"}, incident="INC-2")
    watch = Watch(shop.path, "--since", "0", "--incident", "inc-2")
    try:
        line = watch.next()
        reassigned = watch.next()
        _cli(shop, "incident", "mitigate", "INC-2")
        later = watch.next()
        code, err = watch.interrupt()
    finally:
        watch.kill()
    assert code == 0 and err == ""
    assert line.split()[0] == "2" and "incident.opened" in line and "Pay fails" in line
    assert "incident.reassigned" in reassigned and "alice → eve\u241b[31m\u2407" in reassigned
    assert "\x1b" not in reassigned and "\x07" not in reassigned
    assert "incident.mitigated" in later and "INC-2 mitigated by bob" in later
    assert watch.lines.empty()  # INC-1's mitigation is not shown


def test_watch_waits_for_a_database_that_does_not_exist_yet(tmp_path):
    svc = make_service_repo(tmp_path / "shop")
    db = svc.path / ".git" / "hotfix" / "hotfix.db"
    assert not db.exists()
    watch = Watch(svc.path, "--json")
    try:
        time.sleep(0.5)  # watching nothing yet
        assert not db.exists()  # watching does not create it
        _cli(svc, "incident", "open", "--title", "First", "--sev", "3")
        ev = watch.event()
        code, err = watch.interrupt()
    finally:
        watch.kill()
    assert ev["event"] == "incident.opened" and ev["data"]["title"] == "First"
    assert code == 0 and err == ""


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--since", "-1"], 2, "-1 is not in the range x>=0"),
    (["--since", "abc"], 2, "'abc' is not a valid integer"),
    (["--incident", "INC-99"], 1, "unknown incident INC-99"),
    (["--incident", "../etc"], 1, "not a valid INC key"),
])
def test_watch_bad_input(shop, args, code, message):
    res = shop.cli("watch", *args)
    assert_one_line_error(res, code, message)


def test_watch_hands_nothing_to_hooks(tmp_path):
    """A watcher only reads, even when it ends: delivering is for commands that act."""
    from hotfix_tui import services
    from tests.integration.hook_helpers import deliveries

    config = '[identity]\nallow_override = true\n[hooks]\n"*" = ["true"]\n'
    svc = make_service_repo(tmp_path / "shop", config=config)
    db = svc.path / ".git" / "hotfix" / "hotfix.db"
    ctx = services.open_context(repo=svc.path)
    services.open_incident(ctx, "Not handed on by a watcher", 2)
    watch = Watch(svc.path, "--json", "--since", "0")
    try:
        assert watch.event()["seq"] == 1
        code, err = watch.interrupt()
    finally:
        watch.kill()
    assert code == 0 and err == ""
    time.sleep(2)  # what a hook worker, had one been started, needs to start and deliver
    assert deliveries(db) == [] and not Path(f"{db}-hooks.lock").exists()
