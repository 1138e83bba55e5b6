"""`hotfix sync` between two bastions through a real bare remote (tests/integration/
sync_helpers.py): what A starts B approves, signed, and A deploys with that approval."""

from __future__ import annotations

from pathlib import Path

from tests.integration.release_helpers import deploy
from tests.integration.sync_helpers import rows, submitted, two_bastions


def test_b_approves_what_a_submitted_and_a_deploys_with_it(tmp_path: Path, agent):
    t = two_bastions(tmp_path)
    agent.add(t.keys["bob"])
    first = t.sync(t.a, "--site", "a")
    assert first["joined"] and first["site"] == "a" and first["pushed"]
    sha = submitted(t.a)
    assert t.a.show()["state"] == "in_review"
    t.sync(t.a)
    got = t.sync(t.b, "--site", "b")
    assert got["received"]["a"] > 0 and got["slot"] != first["slot"]
    assert t.b.show()["state"] == "in_review" and t.b.show()["head_sha"] == sha
    res = t.b.ok("approve", "HF-1", actor="bob")
    assert f"signed with {t.keys['bob'].fingerprint()}" in res.out
    sent = t.sync(t.b)
    assert sent["sent_events"] >= 1 and sent["pushed"]
    back = t.sync(t.a)
    assert back["received"]["b"] >= 1
    approval = t.a.show()["approvals"][0]
    assert approval["approver"] == "bob" and approval["signature"]["valid"]
    assert rows(t.a, "SELECT origin FROM approvals") == [("b",)]
    res = deploy(t.a)
    assert res.code == 0, res.err
    for rel in (t.a, t.b):
        t.sync(rel)
    assert t.b.show()["state"] == "deployed"
    for rel in (t.a, t.b):
        audit = rel.ok("audit", "verify", "--json").json()
        assert audit["ok"], audit["problems"]
