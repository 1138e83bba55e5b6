"""Pure parts of import and export: alert payloads in, Markdown and tag messages out."""

from __future__ import annotations

import json

import pytest

from hotfix_tui.config import DEFAULT_SEVERITY_MAP
from hotfix_tui.core.alerts import parse_payload, severity_of
from hotfix_tui.core.errors import ValidationError
from hotfix_tui.core.record import render_markdown, tag_message


@pytest.mark.parametrize(("value", "sev"), [
    ("critical", 1), ("CRITICAL", 1), ("warning", 3), ("info", 4), ("P2", 2), ("sev4", 4),
    (2, 2), ("3", 3), (None, 1), ("weird", 1), ("sev 2", 2),
])
def test_severity_mapping(value, sev):
    assert severity_of(value, DEFAULT_SEVERITY_MAP)[0] == sev


@pytest.mark.parametrize("value", [9, 0, -1, "7", "SEV9", "sev0", True, 2.5, [1]])
def test_a_severity_that_is_no_severity_is_refused_not_read_as_sev1(value):
    """Like `incident open --sev 9`: a number outside 1-4 is a mistake, not "unsure"."""
    with pytest.raises(ValidationError, match="severity"):
        severity_of(value, DEFAULT_SEVERITY_MAP)


def test_alertmanager_alert_without_fingerprint_gets_a_stable_one():
    doc = {"alerts": [{"labels": {"severity": "page", "alertname": "A", "service": "s"}},
                      {"labels": {"service": "s", "alertname": "A", "severity": "page"}}]}
    a, b = parse_payload(json.dumps(doc), DEFAULT_SEVERITY_MAP)
    assert a.fingerprint == b.fingerprint and a.fingerprint.startswith("alertmanager:")
    assert (a.title, a.severity, a.service, a.status) == ("A", 1, "s", "firing")


def test_plain_list_fingerprint_ignores_case_and_spacing():
    doc = [{"title": "Login  fails", "service": "Auth"}, {"title": "login fails",
                                                         "service": "auth"}]
    a, b = parse_payload(json.dumps(doc), DEFAULT_SEVERITY_MAP)
    assert a.fingerprint == b.fingerprint and a.title == "Login fails"


@pytest.mark.parametrize("text", ["", "[1]", '{"alerts": [3]}', '{"x": 1}',
                                  '{"alerts": [{"labels": {"alertname": "A"}, '
                                  '"annotations": "no"}]}'])
def test_malformed_payloads(text):
    with pytest.raises(ValidationError):
        parse_payload(text, DEFAULT_SEVERITY_MAP)


def _record() -> dict:
    hotfix = {"key": "HF-3", "title": "Fix | pipes", "version": "2.0.1", "state": "verified",
              "author": "alice", "author_verified": True, "branch": "hotfix/2.0.1",
              "base_ref": "v2.0.0", "base_sha": "a" * 40, "created_at": "2026-03-01T14:00:00Z",
              "why": "", "risk": "r", "test_plan": "t", "rollback_plan": "b",
              "break_glass": True, "break_glass_reason": "site down",
              "needs_retroactive_approval": True, "scope_accepted_reason": ""}
    incident = {"key": "INC-2", "title": "Down", "sev_label": "SEV1", "status": "open",
                "service": "", "commander": "alice", "opened_by": "alice",
                "opened_by_verified": True, "opened_at": "2026-03-01T13:00:00Z"}
    return {"hotfix": hotfix, "incident": incident, "sha": "b" * 40, "approvals": [],
            "deploys": [{"key": "D-1", "kind": "deploy", "env": "prod", "status": "succeeded",
                         "exit_code": 0, "signal": None, "sha": "b" * 40, "version": "2.0.1",
                         "started_by": "alice", "started_by_verified": True,
                         "started_at": "2026-03-01T14:01:00Z", "duration_s": 75.0,
                         "break_glass": True}],
            "verification": {"state": "not_verified"}, "checklist": [], "scope": None,
            "release": {"tag": "v2.0.1", "tag_sha": None, "branch": "hotfix/2.0.1",
                        "forward_port": []},
            "timeline": [{"at": "2026-03-01T14:01:00Z", "actor": "bob", "actor_verified": False,
                          "text": "a | b", "tone": "bad"}],
            "generated_at": "2026-03-01T15:00:00Z"}


def test_markdown_flags_break_glass_and_escapes_table_cells():
    md = render_markdown(_record())
    assert md.startswith("# HF-3: Fix | pipes\n")
    assert "> **BREAK-GLASS**: deployed without approval: site down. Approval after the " \
           "fact: pending." in md
    assert "| deploy **BREAK-GLASS** |" in md and "| 1m15s |" in md
    assert "| **a \\| b** |" in md and "bob (unverified)" in md
    assert "## Why\n\n_(empty)_" in md and "_No approvals._ Deployed break-glass." in md
    assert "v2.0.1 (not created)" in md and "_Not verified._" in md


def test_tag_message_is_plain_text():
    msg = tag_message(_record())
    assert msg.splitlines()[0] == "HF-3 2.0.1: Fix | pipes"
    assert "Approvals: none" in msg and "BREAK-GLASS: site down" in msg
    assert "Deploys: D-1 deploy prod succeeded" in msg and "**" not in msg
