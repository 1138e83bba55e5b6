"""Hooks: every event kind reaches its hooks once, with the documented JSON, after the
action, never in its way; missed events go out with the next command; crashes never make a
hook run twice."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from hotfix_tui import services
from hotfix_tui.clock import iso, utcnow
from hotfix_tui.core import events as core_events
from hotfix_tui.deploy.launch import wait_finished
from hotfix_tui.services.events import EventTail
from tests.helpers import assert_one_line_error, make_service_repo, wait_for
from tests.integration.deploy_helpers import approved_hotfix, deploy_repo, runner_ids
from tests.integration.hook_helpers import (
    db_of,
    deliveries,
    record_argv,
    recorded,
    recorder,
    wait_delivered,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "HOOKS.md"


def documented_events() -> dict[str, list[str]]:
    """The events table of docs/HOOKS.md: name → the fields of its `data`."""
    out = {}
    for line in DOCS.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and "." in cells[0]:
            name = cells[0].strip("`")
            if name in ("schema_version",):
                continue
            out[name] = [f.strip().strip("`") for f in cells[2].split(",") if f.strip()]
    return out


def documented_fields() -> list[str]:
    """The top-level fields of the event document, from the fields table."""
    out = []
    for line in DOCS.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            out += [f.strip().strip("`") for f in cells[0].split(",")]
    return out


def test_the_docs_list_every_event_with_its_fields():
    assert documented_events() == {k: list(v) for k, v in core_events.EVENTS.items()}
    assert documented_fields() == list(core_events.FIELDS)


def hooked_repo(tmp_path: Path, hooks: str, **kw):
    script, out = recorder(tmp_path)
    extra = kw.pop("extra_config", "")
    svc = deploy_repo(tmp_path, extra_config=extra + "\n[hooks]\n" + hooks.format(
        all=record_argv(script, out, "all"),
        ops=record_argv(script, out, "ops", "{event}", "{seq}", "{hotfix}", "{env}", "{run}",
                        "{incident}", "{actor}"),
        rec=lambda label: record_argv(script, out, label)), **kw)
    return svc, out


FAIL_SH = "#!/bin/sh\necho 'health check: 502' >&2\nexit 1\n"
QUIET_SH = "#!/bin/sh\necho start $1\nsleep 30\necho end\n"
MORE_ENVS = """
[environments.checked]
deploy = ["./ops/deploy.sh", "{version}", "{short_sha}"]
verify = ["./ops/fail.sh"]

[environments.quiet]
deploy = ["./ops/quiet.sh", "{version}"]
cancel_grace_s = 1
"""


def _old_heartbeat(db: Path, run_id: int) -> None:
    conn = sqlite3.connect(db)
    conn.execute("UPDATE deploys SET heartbeat_at = ? WHERE id = ?",
                 (iso(utcnow() - timedelta(seconds=120)), run_id))
    conn.commit()
    conn.close()


def _tamper(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER audit_events_no_update")
    conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE id = 2")
    conn.commit()
    conn.close()


def _all_events(db: Path) -> list[core_events.Event]:
    tail = EventTail(db, since=0)
    try:
        found = []
        while True:
            got = tail.poll()
            if not got:
                return found
            found += got
    finally:
        tail.close()


def test_every_event_kind_reaches_its_hooks_once_with_the_documented_json(tmp_path):
    svc, out = hooked_repo(tmp_path, '"*" = {all}\n"deploy.*,rollback.*" = {ops}\n',
                           extra_config=MORE_ENVS,
                           files={"ops/fail.sh": FAIL_SH, "ops/quiet.sh": QUIET_SH})
    db = db_of(svc.path)
    ok = lambda *a, **kw: _ok(svc.cli(*a, **kw))  # noqa: E731
    approved_hotfix(svc)                                                  # started, submitted,
    ok("incident", "assign", "INC-1", "--commander", "bob")               # approved, reassigned
    approved_hotfix(svc, "HF-2", "Second")
    ok("edit", "HF-2", "--why", "a better reason")                        # approval.stale
    ok("edit", "HF-2", "--why", "w")                                      # approval.valid_again
    ok("reject", "HF-2", "--comment", "not this way", actor="carol")      # rejected
    ok("abandon", "HF-2", "--reason", "superseded")                       # abandoned
    ok("deploy", "HF-1", "--env", "production")                           # deploy started/finished
    ok("verify", "HF-1", "--env", "production")                           # verify.passed
    ok("finish", "HF-1")                                                  # finished
    ok("rollback", "--env", "production", "--reason", "error rate up", actor="carol")
    ok("unlock", "--env", "production", "--reason", "cause addressed")    # environment.*
    ok("start", "--incident", "INC-1", "--title", "Emergency")
    ok("pick", "HF-3", svc.fix)
    ok("deploy", "HF-3", "--env", "checked", "--break-glass", "approver asleep")
    _ok(svc.cli("verify", "HF-3", "--env", "checked"), code=3)            # verify.failed
    ok("approve", "HF-3", actor="bob")                                    # approved after the fact
    cancelled = svc.cli("deploy", "HF-3", "--env", "quiet", "--detach", "--json").json()
    runner_ids(svc, int(cancelled["key"][2:]))
    ok("cancel", cancelled["key"])                                        # deploy.cancelled
    assert wait_finished(db, int(cancelled["key"][2:]), timeout=30).status == "cancelled"
    lost = svc.cli("deploy", "HF-3", "--env", "quiet", "--detach", "--json").json()
    lost_id = int(lost["key"][2:])
    pid, pgid = runner_ids(svc, lost_id)
    try:
        os.kill(pid, signal.SIGKILL)
        _old_heartbeat(db, lost_id)
        ok("status")                                                      # deploy.interrupted
        ok("cancel", lost["key"])  # stops what the dead runner left running
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    for verb in ("mitigate", "resolve", "reopen"):
        ok("incident", verb, "INC-1")
    _tamper(db)
    _ok(svc.cli("audit", "verify"), code=1)                               # audit.verify_failed
    wait_delivered(db)

    got = recorded(out)
    keys = [(r["seq"], r["event"], r["label"]) for r in got]
    assert len(keys) == len(set(keys)), "a hook ran twice for one event"
    everything = _all_events(db)
    # a process SIGKILL cannot end (test_run_survivors.py, as root, freezes one) makes the
    # survivors' events; every other kind happens here
    stuck = {"deploy.survivors", "deploy.survivors_cleared"}
    assert {e.name for e in everything} == set(core_events.EVENT_NAMES) - stuck
    # the catch-all hook got every event exactly once, as `hotfix watch --json` prints it
    assert [r["doc"] for r in got if r["label"] == "all"] == sorted(
        (e.to_json() for e in everything), key=lambda d: (d["seq"], d["event"]))
    # the deploy.*,rollback.* hook got exactly those, with placeholders filled in
    ops = [r for r in got if r["label"] == "ops"]
    assert {r["event"] for r in ops} == {n for n in core_events.EVENT_NAMES
                                         if n.startswith(("deploy.", "rollback."))} - stuck
    for r in got:
        doc = r["doc"]
        assert list(doc) == list(core_events.FIELDS)
        assert list(doc["data"]) == list(core_events.EVENTS[doc["event"]])
        assert doc["schema_version"] == 1
        assert r["event"] == doc["event"] and int(r["seq"]) == doc["seq"]
        assert r["cwd"] == str(svc.path)
        assert "argv" not in r["stdin"] and "ops/deploy.sh" not in r["stdin"]
        if r["label"] == "ops":
            assert r["args"] == [doc["event"], str(doc["seq"]), doc["hotfix"] or "",
                                 doc["env"] or "", doc["run"] or "", doc["incident"] or "",
                                 doc["actor"]]
    by_name = {}
    for r in got:
        by_name.setdefault(r["event"], []).append(r["doc"])
    deploy_done = by_name["deploy.finished"][0]
    assert deploy_done["env"] == "production" and deploy_done["run"] == "D-1"
    assert deploy_done["data"]["outcome"] == "succeeded" and deploy_done["hotfix"] == "HF-1"
    assert by_name["hotfix.submitted"][0]["summary"].startswith("HF-1 needs a review")
    assert by_name["break_glass.used"][0]["data"]["reason"] == "approver asleep"
    assert by_name["rollback.started"][0]["env"] == "production"
    assert by_name["rollback.finished"][0]["data"]["version"] == "1.4.1"
    assert by_name["environment.locked"][0]["actor"] == "carol"
    assert by_name["verify.failed"][0]["data"]["outcome"] == "failed"
    assert by_name["incident.reassigned"][0]["data"]["commander"] == "bob"
    assert by_name["audit.verify_failed"][0]["data"]["bad_seq"] == 2
    # HF-1, HF-2, HF-2 again once its approval counted again, HF-3 after the fact
    assert [d["data"]["retroactive"] for d in by_name["hotfix.approved"]] == [
        False, False, False, True]
    assert by_name["hotfix.approved"][2]["data"]["note"] == (
        "the content is back to what was approved")
    assert by_name["approval.valid_again"][0]["data"]["approver"] == "bob"
    # nothing failed, nothing is left
    assert {d["status"] for d in deliveries(db)} == {"succeeded"}


def _ok(res, code: int = 0):
    assert res.code == code, (res.code, res.out, res.err)
    return res


SLOW_HOOK = """\
import os, sys, time
out = sys.argv[1]
open(os.path.join(out, "slow-started"), "w").write(str(os.getpid()))
time.sleep(60)
open(os.path.join(out, "slow-finished"), "w").write("the timeout did not stop me")
"""


def small_repo(tmp_path: Path, hooks: str):
    """A repository with an incident-only workflow and the given [hooks] table."""
    script, out = recorder(tmp_path)
    slow = tmp_path / "slow.py"
    slow.write_text(SLOW_HOOK)
    config = ("[identity]\nallow_override = true\n\n[hooks]\n"
              + hooks.format(all=record_argv(script, out, "all"),
                             slow=json.dumps([sys.executable, str(slow), str(out)])))
    svc = make_service_repo(tmp_path / "shop", config=config)
    return svc, out, db_of(svc.path)




def test_a_hook_past_its_timeout_is_killed_and_the_action_never_waits(tmp_path):
    svc, out, db = small_repo(tmp_path, '"incident.opened" = {slow}\ntimeout_s = 1\n')
    res = svc.cli("incident", "open", "--title", "Checkout 500", "--sev", "1")
    assert res.code == 0 and res.out.strip() == "INC-1"
    # the command has returned and its hook is not done (it has not even been stopped
    # yet, which takes a second): the command did not wait for it
    assert all(d["finished_at"] is None for d in deliveries(db))
    started = wait_for(lambda: (out / "slow-started").exists() and
                       (out / "slow-started").read_text(), what="the hook to start")
    assert svc.cli("incident", "list", "--json").items()[0]["key"] == "INC-1"
    wait_delivered(db)
    [d] = deliveries(db)
    assert d["status"] == "timed_out" and d["signal"] == signal.SIGTERM
    assert 1000 <= d["duration_ms"] < 60_000
    assert "timeout of 1s" in d["error"]
    with pytest.raises(ProcessLookupError):
        os.kill(int(started), 0)  # killed, not left behind
    assert not (out / "slow-finished").exists()
    shown = svc.cli("hooks", "--json").items()
    assert shown[0]["status"] == "timed_out" and shown[0]["event"] == "incident.opened"


def test_failing_and_missing_hooks_are_recorded_and_the_action_succeeds(tmp_path):
    svc, out, db = small_repo(tmp_path, (
        '"incident.opened" = ["sh", "-c", "echo first line >&2; echo second >&2; '
        'printf \'\\\\033[31mred\\\\n\' >&2; exit 3"]\n'
        '"incident.mitigated" = ["/nonexistent/notify"]\n'
        '"*" = {all}\n'))
    assert svc.cli("incident", "open", "--title", "T", "--sev", "2").code == 0
    assert svc.cli("incident", "mitigate", "INC-1").code == 0
    wait_delivered(db)
    rows = {(d["event"], d["hook"]): d for d in svc.cli("hooks", "--json").items()}
    failed = rows[("incident.opened", "incident.opened")]
    assert failed["status"] == "failed" and failed["exit_code"] == 3
    assert failed["stderr"] == "first line\nsecond\n\u241b[31mred"  # ESC shown, not obeyed
    missing = rows[("incident.mitigated", "incident.mitigated")]
    assert missing["status"] == "failed" and missing["exit_code"] is None
    assert missing["error"] == "command not found: /nonexistent/notify"
    # the other hook of the same events still ran
    assert {r["event"] for r in recorded(out)} == {"incident.opened", "incident.mitigated"}
    text = svc.cli("hooks")
    assert text.code == 0
    assert "failed" in text.out and "first line" in text.out
    assert "command not found: /nonexistent/notify" in text.out
    only = svc.cli("hooks", "--failed", "--json").items()
    assert {d["status"] for d in only} == {"failed"} and len(only) == 2


def test_an_event_committed_while_nothing_runs_goes_out_with_the_next_command(tmp_path,
                                                                              monkeypatch):
    svc, out, db = small_repo(tmp_path, '"*" = {all}\n')
    assert svc.cli("incident", "open", "--title", "First", "--sev", "2").code == 0
    wait_delivered(db)
    # a change made through the services alone (as a runner that died before handing its
    # events on would leave it): committed, and nobody has delivered it
    monkeypatch.setenv("HOTFIX_ACTOR", "alice")
    ctx = services.open_context(repo=svc.path)
    services.set_incident_status(ctx, "INC-1", "mitigated")
    assert [r["event"] for r in recorded(out)] == ["incident.opened"]
    assert [d["event"] for d in deliveries(db)] == ["incident.opened"]
    # the next command of anyone, even one that only reads, delivers it
    assert svc.cli("incident", "list", actor="bob").code == 0
    wait_delivered(db)
    assert [r["event"] for r in recorded(out)] == ["incident.opened", "incident.mitigated"]
    assert svc.cli("incident", "list").code == 0
    wait_delivered(db)
    assert len(recorded(out)) == 2  # and only once


def test_a_runs_end_is_delivered_by_its_runner_with_no_command_after_it(tmp_path):
    svc, out = hooked_repo(tmp_path, '"deploy.finished" = {all}\n')
    approved_hotfix(svc)
    res = svc.cli("deploy", "HF-1", "--env", "scripted", "--detach", "--json")
    assert res.code == 0 and res.json()["status"] == "running"
    # no command runs after this one: the runner hands the end of its run on itself
    [rec] = wait_for(lambda: recorded(out), what="deploy.finished delivered")
    assert rec["doc"]["run"] == "D-1" and rec["doc"]["data"]["outcome"] == "succeeded"


def test_a_delivery_cut_off_by_a_crash_is_lost_never_run_twice(tmp_path):
    svc, out, db = small_repo(tmp_path, '"incident.opened" = {slow}\n'
                              '"incident.mitigated" = {all}\ntimeout_s = 120\n')
    assert svc.cli("incident", "open", "--title", "T", "--sev", "2").code == 0
    hook_pid = int(wait_for(lambda: (out / "slow-started").exists() and
                            (out / "slow-started").read_text(), what="the hook to start"))
    [running] = deliveries(db)
    assert running["status"] == "running" and running["pid"]
    os.kill(running["pid"], signal.SIGKILL)  # the worker dies mid-delivery
    with contextlib.suppress(ProcessLookupError):
        os.killpg(hook_pid, signal.SIGKILL)
    (out / "slow-started").unlink()
    wait_for(lambda: not _alive(running["pid"]), what="the worker to be gone")
    assert svc.cli("incident", "mitigate", "INC-1").code == 0
    wait_delivered(db)
    rows = {d["event"]: d for d in deliveries(db)}
    assert rows["incident.opened"]["status"] == "lost"
    assert "not run again" in rows["incident.opened"]["error"]
    assert rows["incident.mitigated"]["status"] == "succeeded"
    assert not (out / "slow-started").exists()  # the cut-off hook did not start again


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_pending_delivery_left_by_a_dead_worker_is_run_by_the_next(tmp_path, monkeypatch):
    svc, out, db = small_repo(tmp_path, '"*" = {all}\n')
    monkeypatch.setenv("HOTFIX_ACTOR", "alice")
    ctx = services.open_context(repo=svc.path)
    services.open_incident(ctx, "Queued, never started", 2)
    # a worker queued the delivery and died before starting it (no lock held, no worker)
    from hotfix_tui.hooks.queue import queue_new
    from hotfix_tui.store import open_store

    with open_store(db) as store:
        assert queue_new(store, ctx.config.hooks, str(svc.path)) == 1
    assert [d["status"] for d in deliveries(db)] == ["pending"]
    assert svc.cli("incident", "list").code == 0
    wait_delivered(db)
    assert [d["status"] for d in deliveries(db)] == ["succeeded"]
    assert [r["event"] for r in recorded(out)] == ["incident.opened"]


def test_many_processes_at_once_deliver_each_event_once(tmp_path):
    svc, out, db = small_repo(tmp_path, '"*" = {all}\n')
    for n in range(5):
        assert svc.cli("incident", "open", "--title", f"I{n}", "--sev", "2").code == 0
    # eight workers started at the same moment, on top of those the commands started
    procs = [subprocess.Popen([sys.executable, "-m", "hotfix_tui.hooks.worker", "--db",
                               str(db), "--repo", str(svc.path)]) for _ in range(8)]
    for p in procs:
        assert p.wait(timeout=60) == 0
    wait_delivered(db)
    got = [(r["seq"], r["event"]) for r in recorded(out)]
    assert sorted(got) == sorted(set(got)) and len(got) == 5


def test_events_older_than_max_age_are_skipped_not_replayed(tmp_path, monkeypatch):
    svc, out, db = small_repo(tmp_path, '"*" = {all}\nmax_age_s = 3600\n')
    monkeypatch.setenv("HOTFIX_ACTOR", "alice")
    ctx = services.open_context(repo=svc.path)
    ctx.clock = lambda: utcnow() - timedelta(hours=2)
    services.open_incident(ctx, "Long ago", 3)
    assert svc.cli("incident", "open", "--title", "Now", "--sev", "2").code == 0
    wait_delivered(db)
    rows = deliveries(db)
    assert [d["status"] for d in rows] == ["skipped", "succeeded"]
    assert "max_age_s" in rows[0]["error"]
    assert [r["doc"]["data"]["title"] for r in recorded(out)] == ["Now"]


@pytest.mark.parametrize(("hooks", "message"), [
    ('"deploy.finish" = ["x"]', "hooks.deploy.finish: unknown event"),
    ('"deploy.finished" = "curl https://chat.example/hook"', "never a shell string"),
    ('"deploy.finished" = []', "non-empty list"),
    ('"*" = ["notify", "{password}"]', "unknown placeholder {password}"),
    ('"nothing.*" = ["x"]', "unknown event"),
    ('timeout_s = 0', "hooks.timeout_s: must be more than 0"),
    ('timeout_s = "10"', "hooks.timeout_s: must be a number"),
    ('max_age_s = -1', "hooks.max_age_s: must not be negative"),
])
def test_a_bad_hooks_table_is_one_error_naming_the_line(repo, hooks, message):
    (repo / ".hotfix.toml").write_text(f"[hooks]\n{hooks}\n")
    res = _run_in(repo, ["incident", "list"])
    assert_one_line_error(res, 1, message)
    assert ".hotfix.toml:2:" in res.err
    assert not db_of(repo).exists()


def _run_in(repo: Path, args: list[str]):
    from tests.helpers import run

    return run(args, cwd=repo)


def test_no_hooks_no_bookkeeping(tmp_path):
    svc = make_service_repo(tmp_path / "shop")
    assert svc.cli("incident", "open", "--title", "T", "--sev", "2").code == 0
    db = db_of(svc.path)
    assert deliveries(db) == []
    assert not Path(f"{db}-hooks.lock").exists()  # no worker was ever started
    res = svc.cli("hooks")
    assert res.out.strip() == "no deliveries" and "no hooks are configured" in res.err


def test_a_read_only_database_delivers_nothing(tmp_path):
    svc, out, db = small_repo(tmp_path, '"*" = {all}\n')
    from hotfix_tui.store import open_store

    with open_store(db):
        pass
    ctx = services.open_context(repo=svc.path)
    services.open_incident(ctx, "Undelivered", 2)
    os.chmod(db, 0o444)
    try:
        assert services.deliver_hooks(ctx) is False
        ctx.readonly = True
        os.chmod(db, 0o644)
        assert services.deliver_hooks(ctx) is False  # a browsing console never delivers
    finally:
        os.chmod(db, 0o644)
    assert deliveries(db) == []


def test_doctor_names_hooks_that_cannot_start_and_recent_failures(tmp_path):
    svc, out, db = small_repo(tmp_path, '"*" = {all}\n"incident.opened" = ["./ops/notify"]\n'
                              '"incident.resolved" = ["no-such-notifier-here"]\n')
    assert svc.cli("incident", "open", "--title", "T", "--sev", "2").code == 0
    wait_delivered(db)
    res = svc.cli("doctor", "--json")
    checks = {c["name"]: c for c in res.json()["checks"]}
    assert checks["hooks"]["status"] == "warn"
    assert "incident.opened: ./ops/notify does not exist" in checks["hooks"]["detail"]
    assert "no-such-notifier-here not found on PATH" in checks["hooks"]["detail"]
    assert checks["hook deliveries"]["status"] == "warn"
    assert checks["hook deliveries"]["detail"] == "1 failed in the last 24 hours"
    assert checks["hook deliveries"]["fix"] == "hotfix hooks --failed"
