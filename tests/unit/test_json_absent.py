"""Absent means null: every optional text the store keeps as "" reaches JSON as null, and
the published schema accepts the result (the demo sandbox in test_json_contract.py never
leaves some of these empty, e.g. a first deploy's previous release)."""

from __future__ import annotations

from hotfix_tui.core.models import (
    HOTFIX_OPTIONAL_TEXT,
    Approval,
    ChecklistItem,
    Deploy,
    EnvironmentStatus,
    Hotfix,
    HotfixState,
    Incident,
    IncidentStatus,
    RunKind,
    RunStatus,
)
from tests.schemas import problems

AT = "2026-03-01T14:02:11.250Z"
SHA = "a" * 40


def doc(obj) -> dict:
    return {"schema_version": 1, **obj.to_json()}


def test_a_first_deploy_without_reasons():
    run = Deploy(key="D-1", hotfix=None, env="production", kind=RunKind.DEPLOY,
                 status=RunStatus.RUNNING, exit_code=None, signal=None, sha=SHA,
                 version="1.4.2", previous_sha="", previous_version="", started_by="alice",
                 started_by_verified=True, started_at=AT, finished_at=None, heartbeat_at=None,
                 lines=0, break_glass=False, break_glass_reason="", host="", reason="")
    d = doc(run)
    for key in ("previous_sha", "previous_version", "break_glass_reason", "host", "reason",
                "cancelled_by"):
        assert d[key] is None, key
    assert d["line_count"] == 0 and "lines" not in d
    assert problems(d, "run.json") == []


def test_a_fresh_hotfix_with_an_uncommented_approval():
    approval = Approval(approver="bob", approver_verified=True, decision="approved", sha=SHA,
                        tree_sha=SHA, checklist_hash="c", config_hash="h", stale=False,
                        stale_reason="", at=AT, comment="", doc_hash="")
    item = ChecklistItem(n=1, text="Root cause understood", automatic=False, checked=False)
    hf = Hotfix(key="HF-1", incident="INC-1", title="Fix", author="alice",
                author_verified=True, base_ref="v1.4.1", base_sha=SHA, branch="hotfix/1.4.2",
                worktree="/srv/wt", head_sha=SHA, version="1.4.2", state=HotfixState.DRAFT,
                created_at=AT, updated_at=AT, approvals=(approval,), checklist=(item,))
    d = doc(hf)
    for key in HOTFIX_OPTIONAL_TEXT:
        assert d[key] is None, key
    a = d["approvals"][0]
    assert a["comment"] is None and a["stale_reason"] is None and a["doc_hash"] is None
    assert d["checklist"][0]["detail"] is None
    assert problems(d, "hotfix.json") == []


def test_an_incident_without_service_or_commander():
    inc = Incident(key="INC-1", title="Down", severity=1, status=IncidentStatus.OPEN,
                   service="", commander="", opened_by="alice", opened_by_verified=True,
                   opened_at=AT)
    d = doc(inc)
    assert d["service"] is None and d["commander"] is None
    assert problems(d, "incident.json") == []


def test_an_environment_unlocked_and_one_never_deployed():
    unlocked = EnvironmentStatus(env="production", version="1.4.1", sha=SHA,
                                 deployed_by="alice", deployed_at=AT, locked=False,
                                 locked_by="", lock_reason="", locked_at="")
    never = EnvironmentStatus(env="staging", version=None, sha=None, deployed_by=None,
                              deployed_at=None, locked=False, locked_by=None,
                              lock_reason=None)
    for env in (unlocked, never):
        d = doc(env)
        assert d["lock_reason"] is None and d["locked_by"] is None and d["locked_at"] is None
        assert problems(d, "environment.json") == []
