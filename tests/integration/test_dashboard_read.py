"""The dashboard's read: each incident's newest hotfixes, read for all its incidents at
once, are exactly what reading them incident by incident gives."""

from __future__ import annotations

from hotfix_tui.store import open_store, records

NOW = "2026-01-01T00:00:00Z"


def _incident(store, n: int) -> str:
    store.insert("incidents", {"id": n, "key": f"INC-{n}", "title": f"Incident {n}",
                               "severity": 1 + n % 4, "status": "open", "opened_by": "ops",
                               "opened_by_verified": 1, "opened_at": NOW})
    return f"INC-{n}"


def _hotfix(store, n: int, incident: int, state: str = "in_review") -> None:
    store.insert("hotfixes", {
        "id": n, "key": f"HF-{n}", "incident_id": incident, "title": f"Fix {n}",
        "author": "alice", "author_verified": 1, "base_ref": "v1", "base_sha": "a" * 40,
        "branch": f"hotfix/HF-{n}", "worktree": f"/w/HF-{n}", "head_sha": "b" * 40,
        "version": "v1-hf1", "state": state, "created_at": NOW, "updated_at": NOW})


def _approval(store, hotfix: int, approver: str) -> None:
    store.insert("approvals", {
        "hotfix_id": hotfix, "approver": approver, "approver_verified": 1,
        "decision": "approved", "head_sha": "b" * 40, "tree_sha": "c" * 40,
        "checklist_hash": "d", "config_hash": "e", "at": NOW})


def test_newest_hotfixes_of_many_incidents_match_one_incident_at_a_time(tmp_path):
    store = open_store(tmp_path / "hotfix.db")
    with store.write():
        keys = [_incident(store, n) for n in (1, 2, 3)]
        # interleaved ids; INC-1 has more than `per`, INC-3 none; some abandoned
        for n in range(1, 31):
            incident = 1 if n % 3 else 2
            _hotfix(store, n, incident, "abandoned" if n % 7 == 0 else "in_review")
        _approval(store, 29, "bob")
        _approval(store, 29, "carol")
        _approval(store, 3, "bob")
    one_by_one = {k: records.list_hotfixes(store, incident=k, limit=12) for k in keys}
    together = records.newest_hotfixes(store, keys, 12)
    assert together == one_by_one
    assert [len(together[k]) for k in keys] == [12, 10, 0]
    assert [h.key for h in together["INC-1"]][:3] == ["HF-29", "HF-28", "HF-26"]
    assert len(together["INC-1"][0].approvals) == 2
    assert records.newest_hotfixes(store, [], 10) == {}
