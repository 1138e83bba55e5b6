"""The lifecycles as explicit tables: every legal move succeeds, every other raises."""

from __future__ import annotations

import pytest

from hotfix_tui.core.errors import IllegalTransition, ValidationError
from hotfix_tui.core.models import HotfixState, IncidentStatus
from hotfix_tui.core.workflow import (
    HOTFIX_TRANSITIONS,
    INCIDENT_TRANSITIONS,
    check_hotfix_transition,
    check_incident_transition,
    check_severity,
    clean_title,
    parse_key,
)

H = HotfixState
ALL_PAIRS = [(a, b) for a in H for b in H]

EXPECTED_LEGAL = {
    (H.DRAFT, H.IN_REVIEW), (H.DRAFT, H.DEPLOYING), (H.DRAFT, H.ABANDONED),
    (H.IN_REVIEW, H.IN_REVIEW), (H.IN_REVIEW, H.APPROVED), (H.IN_REVIEW, H.DRAFT),
    (H.IN_REVIEW, H.DEPLOYING), (H.IN_REVIEW, H.ABANDONED),
    (H.APPROVED, H.IN_REVIEW), (H.APPROVED, H.DRAFT), (H.APPROVED, H.DEPLOYING),
    (H.APPROVED, H.ABANDONED),
    (H.DEPLOYING, H.DEPLOYED), (H.DEPLOYING, H.FAILED), (H.DEPLOYING, H.ROLLED_BACK),
    (H.DEPLOYED, H.DEPLOYING), (H.DEPLOYED, H.VERIFIED), (H.DEPLOYED, H.FAILED),
    (H.DEPLOYED, H.ROLLED_BACK), (H.DEPLOYED, H.FINISHED),
    (H.VERIFIED, H.DEPLOYING), (H.VERIFIED, H.DEPLOYED), (H.VERIFIED, H.ROLLED_BACK),
    (H.VERIFIED, H.FINISHED),
    (H.FAILED, H.DEPLOYING), (H.FAILED, H.ROLLED_BACK), (H.FAILED, H.DRAFT),
    (H.FAILED, H.ABANDONED),
    (H.ROLLED_BACK, H.DRAFT), (H.ROLLED_BACK, H.ABANDONED),
}


def test_table_is_the_documented_lifecycle():
    legal = {(a, b) for a, targets in HOTFIX_TRANSITIONS.items() for b in targets}
    assert legal == EXPECTED_LEGAL
    assert set(HOTFIX_TRANSITIONS) == set(H)


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=lambda s: str(s))
def test_every_hotfix_pair(current, target):
    if (current, target) in EXPECTED_LEGAL:
        assert check_hotfix_transition("HF-1", current, target) is target
    else:
        with pytest.raises(IllegalTransition) as info:
            check_hotfix_transition("HF-1", current, target)
        msg = str(info.value)
        assert f"HF-1 is {current}" in msg
        assert str(target) in msg
        for allowed in HOTFIX_TRANSITIONS[current]:
            assert str(allowed) in msg
        if not HOTFIX_TRANSITIONS[current]:
            assert "final state" in msg


def test_the_happy_path_is_legal_end_to_end():
    path = [H.DRAFT, H.IN_REVIEW, H.APPROVED, H.DEPLOYING, H.DEPLOYED, H.VERIFIED, H.FINISHED]
    for a, b in zip(path, path[1:], strict=False):
        check_hotfix_transition("HF-1", a, b)


def test_stale_approvals_return_to_review():
    check_hotfix_transition("HF-1", H.APPROVED, H.IN_REVIEW)
    check_hotfix_transition("HF-1", H.IN_REVIEW, H.IN_REVIEW)


@pytest.mark.parametrize(("current", "target"),
                         [(a, b) for a in IncidentStatus for b in IncidentStatus])
def test_every_incident_pair(current, target):
    legal = target in INCIDENT_TRANSITIONS[current]
    if legal:
        assert check_incident_transition("INC-1", current, target) is target
    else:
        with pytest.raises(IllegalTransition, match="INC-1 is"):
            check_incident_transition("INC-1", current, target)


@pytest.mark.parametrize("bad", ["", "   ", "\t\n", None, "a\x1b[31mb", "x" * 201])
def test_bad_titles(bad):
    with pytest.raises(ValidationError):
        clean_title(bad)


def test_title_is_normalised_and_limited():
    assert clean_title("  Checkout   failing ") == "Checkout failing"
    assert clean_title("x" * 200) == "x" * 200
    with pytest.raises(ValidationError, match="limit is 200"):
        clean_title("x" * 10_000)


@pytest.mark.parametrize("sev", [0, 5, 9, -1, True])
def test_bad_severity(sev):
    with pytest.raises(ValidationError):
        check_severity(sev)


def test_parse_key():
    assert parse_key("INC-12", "INC") == 12
    assert parse_key("inc-3", "INC") == 3
    assert parse_key("7", "HF") == 7
    for bad in ["INC-", "HF-x", "-1", "INC-1; drop", "１２"]:
        with pytest.raises(ValidationError):
            parse_key(bad, "INC")
