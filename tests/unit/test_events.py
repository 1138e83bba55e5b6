"""core.events: which audit events become which events, and what they may carry."""

from __future__ import annotations

import json

import pytest

from hotfix_tui.config import parse_config
from hotfix_tui.core import events
from hotfix_tui.core.models import AuditEvent


def audit(action: str, entity: str = "deploy", key: str = "D-3", before=None, after=None,
          **extra) -> AuditEvent:
    return AuditEvent(id=7, at="2026-11-26T03:12:00.000Z", actor="alice", actor_verified=False,
                      entity=entity, entity_key=key, action=action, before=before, after=after,
                      incident="INC-2", hotfix="HF-1", prev_hash="0", hash="1", extra=extra)


def test_a_break_glass_deploy_is_two_events_with_one_seq():
    made = events.derive(audit("deploy.break_glass", after={
        "env": "production", "sha": "abc", "version": "1.4.2",
        "argv": ["./ops/deploy.sh", "--token=s3cret"], "break_glass_reason": "down"}))
    assert [(e.name, e.seq) for e in made] == [("deploy.started", 7), ("break_glass.used", 7)]
    started, glass = (e.to_json() for e in made)
    assert started["data"] == {"version": "1.4.2", "sha": "abc", "break_glass": True,
                               "break_glass_reason": "down"}
    assert glass["run"] == "D-3" and glass["env"] == "production"
    assert glass["actor_verified"] is False
    assert "s3cret" not in json.dumps([started, glass])  # argv never leaves the audit trail


@pytest.mark.parametrize(("action", "status", "name"), [
    ("deploy.succeeded", "succeeded", "deploy.finished"),
    ("deploy.failed", "failed", "deploy.finished"),
    ("deploy.timed_out", "timed_out", "deploy.finished"),
    ("deploy.cancelled", "cancelled", "deploy.cancelled"),
    ("deploy.interrupted", "interrupted", "deploy.interrupted"),
    ("rollback.failed", "failed", "rollback.finished"),
    ("verify.failed", "failed", "verify.failed"),
    ("verify.interrupted", "interrupted", "verify.failed"),
])
def test_the_end_of_a_run(action, status, name):
    [e] = events.derive(audit(action, before={"status": "running"}, after={
        "status": status, "exit_code": 2 if status == "failed" else None, "signal": None,
        "env": "staging", "version": "1.4.2", "sha": "abc"}))
    assert e.name == name and e.data["outcome"] == status and e.env == "staging"
    assert e.to_json()["data"]["exit_code"] == (2 if status == "failed" else None)


@pytest.mark.parametrize("action", ["hotfix.verified", "verify.passed"])
def test_verified_on_an_environment_is_one_event_whether_or_not_it_was_the_gate(action):
    """`hotfix.verified` (the gate environment: the hotfix is verified) and `verify.passed`
    (an environment before it) both tell hooks the same thing: verified on `env`."""
    [e] = events.derive(audit(action, entity="hotfix", key="HF-1", after={
        "env": "staging", "sha": "abc", "version": "1.4.2"}))
    assert (e.name, e.env, e.data) == ("verify.passed", "staging", {})
    assert e.summary == "HF-1 verified on staging by alice"


@pytest.mark.parametrize("action", [
    "verify.succeeded",  # verify.passed comes with the verification on its environment
    "verify.cancelled", "verify.started", "deploy.cancel_requested", "deploy.orphan_stopped",
    "hotfix.edited", "checklist.checked", "incident.note", "finish.ported",
    "environment.deployed", "hotfix.state", "approval.approved",
])
def test_actions_that_are_no_event(action):
    assert events.derive(audit(action, after={"status": "succeeded"})) == []


def test_summaries_are_one_line_without_control_characters():
    [e] = events.derive(audit("hotfix.rejected", entity="hotfix", key="HF-1",
                              comment="no\n\x1b[31mway\x07"))
    assert e.summary == "HF-1 rejected by alice: no \u241b[31mway\u2407"  # shown, not obeyed
    assert e.data["comment"] == "no\n\x1b[31mway\x07"  # JSON keeps the words, escaped


def test_every_event_document_has_every_field():
    [e] = events.derive(audit("environment.unlocked", entity="environment", key="production",
                              before={"locked_by": "carol", "reason": "rolled back"},
                              after={"reason": "fixed"}))
    doc = e.to_json()
    assert list(doc) == list(events.FIELDS)
    assert doc["data"] == {"reason": "fixed", "previous_reason": "rolled back",
                           "previously_locked_by": "carol"}
    assert doc["env"] == "production" and doc["run"] is None


@pytest.mark.parametrize(("key", "name", "hit"), [
    ("*", "deploy.finished", True),
    ("deploy.*", "deploy.finished", True),
    ("deploy.*", "rollback.finished", False),
    ("deploy.finished, rollback.*", "rollback.started", True),
    ("hotfix.submitted", "hotfix.submitted", True),
    ("hotfix.submitted", "hotfix.started", False),
])
def test_hook_keys_select_events(key, name, hit):
    assert events.is_selector(key)
    assert events.matches(key, name) is hit


def test_a_config_runs_every_hook_that_selects_an_event():
    cfg = parse_config('[hooks]\n"*" = ["a"]\n"deploy.*,rollback.*" = ["b", "{run}"]\n'
                       '"hotfix.submitted" = ["c"]\n')
    assert cfg.hooks.for_event("deploy.started") == [("*", ("a",)),
                                                     ("deploy.*,rollback.*", ("b", "{run}"))]
    assert [k for k, _ in cfg.hooks.for_event("hotfix.submitted")] == ["*", "hotfix.submitted"]
    assert cfg.hooks.timeout_s == 10 and cfg.hooks.max_age_s == 86400
