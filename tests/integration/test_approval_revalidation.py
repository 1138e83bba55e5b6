"""Staleness is a function of the current content: an approval whose bound content is back
(a .hotfix.toml edit reverted byte for byte) counts again, and a hotfix whose approval
went stale after a deploy to another environment can be approved again."""

from __future__ import annotations

import sqlite3

import pytest

from tests.helpers import assert_one_line_error
from tests.integration.deploy_helpers import approved_hotfix, deploy_repo


@pytest.fixture
def svc(tmp_path):
    return deploy_repo(tmp_path)


def _hf(svc) -> dict:
    return svc.cli("show", "HF-1", "--json").json()


def _approval(svc) -> dict:
    [a] = [a for a in _hf(svc)["approvals"] if a["decision"] == "approved"]
    return a


def _edit_config(svc) -> bytes:
    cfg = svc.path / ".hotfix.toml"
    original = cfg.read_bytes()
    cfg.write_bytes(original + b"# a comment someone added\n")
    return original


def _actions(svc) -> list[str]:
    conn = sqlite3.connect(svc.path / ".git" / "hotfix" / "hotfix.db")
    try:
        return [r[0] for r in conn.execute("SELECT action FROM audit_events ORDER BY id")]
    finally:
        conn.close()


def test_a_reverted_config_edit_makes_the_approval_count_again(svc):
    approved_hotfix(svc)
    original = _edit_config(svc)
    stale = _approval(svc)
    assert stale["stale"] is True and stale["counts"] is False
    assert ".hotfix.toml changed" in stale["stale_reason"]
    assert _hf(svc)["state"] == "in_review"

    (svc.path / ".hotfix.toml").write_bytes(original)  # back, byte for byte
    again = _approval(svc)
    assert again["stale"] is False and again["stale_reason"] is None
    assert again["counts"] is True and again["backed"] is True
    assert _hf(svc)["state"] == "approved"
    # the change and its event are one record: the chain agrees the approval counts
    actions = _actions(svc)
    assert actions.index("approval.stale") < actions.index("approval.valid_again")
    verify = svc.cli("audit", "verify", "--json")
    assert verify.code == 0, verify.out
    assert verify.json()["problems"] == []
    res = svc.cli("deploy", "HF-1", "--env", "production")
    assert res.code == 0, res.err
    assert _hf(svc)["state"] == "deployed"


def test_a_config_edit_reverted_after_a_deploy_elsewhere_lets_production_in(svc):
    approved_hotfix(svc)
    assert svc.cli("deploy", "HF-1", "--env", "scripted").code == 0
    assert _hf(svc)["state"] == "deployed"
    original = _edit_config(svc)
    assert_one_line_error(svc.cli("deploy", "HF-1", "--env", "production"), 1,
                          "approval stale: .hotfix.toml changed")
    (svc.path / ".hotfix.toml").write_bytes(original)
    res = svc.cli("deploy", "HF-1", "--env", "production")
    assert res.code == 0, res.err
    assert svc.cli("audit", "verify").code == 0


def test_a_stale_approval_of_a_deployed_hotfix_can_be_given_again(svc):
    approved_hotfix(svc)
    assert svc.cli("deploy", "HF-1", "--env", "scripted").code == 0
    _edit_config(svc)  # kept: the new config is what production gets reviewed under
    assert_one_line_error(svc.cli("deploy", "HF-1", "--env", "production"), 1,
                          "approval stale")
    # the author still cannot approve it; another person can, from `deployed`
    assert_one_line_error(svc.cli("approve", "HF-1", actor="alice"), 1, "you authored HF-1")
    res = svc.cli("approve", "HF-1", "--comment", "same code, new config", actor="bob")
    assert res.code == 0, res.err
    hf = _hf(svc)
    assert hf["state"] == "deployed"
    assert [a["counts"] for a in hf["approvals"]] == [False, True]
    # a second approval now would count for nothing: it is refused, as in review
    assert_one_line_error(svc.cli("approve", "HF-1", actor="carol"), 1, "HF-1 is deployed")
    res = svc.cli("deploy", "HF-1", "--env", "production")
    assert res.code == 0, res.err
    assert svc.cli("audit", "verify").code == 0
