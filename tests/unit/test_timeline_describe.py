"""core.timeline.describe has words for every audit action the code base appends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotfix_tui.core.models import AuditEvent
from hotfix_tui.core.timeline import describe

PACKAGE = Path(__file__).resolve().parents[2] / "hotfix_tui"
KINDS = ("incident", "hotfix", "approval", "checklist", "verify", "deploy", "rollback",
         "environment", "finish", "audit")
LITERAL = re.compile(r'"((?:' + "|".join(KINDS) + r')\.[a-z_]+)"')
NOT_ACTIONS = {"hotfix.db"}
RUN_STATUSES = ("succeeded", "failed", "cancelled", "timed_out", "interrupted")

# Actions built at run time rather than written out.
DYNAMIC = ([f"incident.{s}" for s in ("open", "mitigated", "resolved")]
           + [f"{k}.{s}" for k in ("deploy", "verify", "rollback") for s in RUN_STATUSES])


def emitted_actions() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        # the timeline's own words, and files that name events (core/events.py), not actions
        if path.relative_to(PACKAGE).as_posix() in ("core/timeline.py", "core/events.py",
                                                     "tui/toasts.py"):
            continue
        found |= set(LITERAL.findall(path.read_text()))
    return found - NOT_ACTIONS


def event(action: str, before=None, after=None, **extra) -> AuditEvent:
    return AuditEvent(id=1, at="2026-03-01T14:00:00.000Z", actor="alice", actor_verified=True,
                      entity=action.split(".")[0], entity_key="HF-1", action=action,
                      before=before, after=after, incident="INC-1", hotfix="HF-1",
                      prev_hash="0", hash="1", extra=extra)


def test_the_scan_finds_the_actions():
    found = emitted_actions()
    assert {"approval.stale", "deploy.break_glass", "finish.ported", "incident.note"} <= found


@pytest.mark.parametrize("action", sorted(emitted_actions() | set(DYNAMIC)))
def test_every_action_has_its_own_words(action):
    text, tone = describe(event(action, {"state": "x", "status": "running"},
                                {"state": "y", "status": "failed", "env": "production"}))
    assert action not in text, f"{action} falls through to the generic text: {text}"
    assert tone in ("", "good", "bad", "warn")
    assert "\n" not in text


@pytest.mark.parametrize(("ev", "text", "tone"), [
    (event("incident.note", after={"text": "line one\nline two\x1b[31m"}),
     "note: line one line two\u241b[31m", ""),
    (event("approval.stale", before={"approver": "bob"}, after={"reason": "head moved"}),
     "HF-1 approval by bob went stale: head moved", "warn"),
    (event("deploy.failed", after={"status": "failed", "exit_code": 3}),
     "HF-1 deploy failed (exit 3)", "bad"),
    (event("rollback.succeeded", after={"status": "succeeded", "exit_code": 0}),
     "HF-1 rollback succeeded", "good"),
    (event("finish.conflict", after={"branch": "main", "files": ["a.py", "b.py"]}),
     "HF-1 forward-port to main stopped: conflict in a.py, b.py", "warn"),
    (event("finish.started", after={"tag": "v1.4.2", "branches": ["main"],
                                    "skip_verify_reason": "probe down"}),
     "HF-1 finish started: tag v1.4.2, forward-port to main; verification skipped: probe down",
     "warn"),
    (event("hotfix.finished", before={"state": "verified"}, after={"state": "finished"},
           tag="v1.4.2"), "HF-1 finished: tagged v1.4.2", "good"),
    (event("incident.updated", before={"severity": 3}, after={"severity": 1},
           source="alertmanager"), "HF-1 updated: severity 3 → 1 (from alertmanager)", ""),
])
def test_words_and_tones(ev, text, tone):
    assert describe(ev) == (text, tone)


@pytest.mark.parametrize(("ev", "text"), [
    (event("deploy.started", after={"env": "production", "version": "1.4.2"}),
     "HF-1 deploy 1.4.2 to production started"),
    (event("verify.started", after={"env": "production", "version": "1.4.2"}),
     "HF-1 verify 1.4.2 on production started"),
    (event("rollback.started", before={"version": "1.4.2"},
           after={"env": "production", "version": "1.4.1", "reason": "error rate up"}),
     "HF-1 rollback of production to 1.4.1 started: error rate up"),
    # a rollback recorded before the event named its environment
    (event("rollback.started", after={"version": "1.4.1", "reason": "drill"}),
     "HF-1 rollback to 1.4.1 started: drill"),
])
def test_runs_say_where_they_ran(ev, text):
    assert describe(ev)[0] == text


def test_the_console_keeps_its_colours():
    from hotfix_tui.tui.widgets.timeline import describe as render

    assert str(render(event("deploy.break_glass", after={"env": "p"})).style) == "bold red"
    assert str(render(event("incident.note", after={"text": "hi"})).style) == "italic"
    assert str(render(event("approval.approved", after={"sha": "a" * 40})).style) == "green"
    assert str(render(event("hotfix.rejected", comment="no")).style) == "red"
    assert str(render(event("hotfix.pick_conflict", after={"files": []})).style) == "yellow"
    assert str(render(event("hotfix.edited", after={"why": "x"})).style) == ""
