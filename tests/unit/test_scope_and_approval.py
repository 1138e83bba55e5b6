"""Scope evaluation and approval binding, as pure functions."""

from __future__ import annotations

from hotfix_tui.config import ScopeSection
from hotfix_tui.core import approval as appr
from hotfix_tui.core.models import Approval, ChecklistItem
from hotfix_tui.core.scope import FileChange, automatic_items, evaluate


def _rules(report):
    return sorted({v.rule for v in report.violations})


def test_clean_change_has_no_violations():
    r = evaluate([FileChange("app/x.py", 3, 1)], ScopeSection(), commits=1)
    assert r.violations == () and r.lines == 4


def test_every_rule_fires():
    policy = ScopeSection(max_files=2, max_lines=10, allowed=("app/**",))
    files = [
        FileChange("app/a.py", 5, 5),
        FileChange("migrations/0042_add.sql", 3, 0, status="A"),
        FileChange("poetry.lock", 1, 1),
        FileChange("requirements-dev.txt", 1, 0),
        FileChange("docs/logo.png", 0, 0, binary=True),
    ]
    r = evaluate(files, policy, commits=2)
    assert _rules(r) == ["dependency", "forbidden", "max_files", "max_lines", "migration",
                         "outside_allowed"]
    items = automatic_items(r, 4, policy)
    assert items[0].n == 4 and items[0].passed is False and "5 of 2 files" in items[0].detail
    assert all(i.automatic for i in items)


def test_no_commits_is_a_violation():
    assert _rules(evaluate([], ScopeSection(), commits=0)) == ["no_commits"]


def test_a_renamed_forbidden_file_counts():
    r = evaluate([FileChange("app/x.sql", 0, 0, status="R", old_path="migrations/x.sql")],
                 ScopeSection(), commits=1)
    assert "forbidden" in _rules(r)


def _approval(**kw) -> Approval:
    base = dict(approver="bob", approver_verified=True, decision="approved", sha="a" * 40,
                tree_sha="t1", checklist_hash="c1", config_hash="k1", stale=False,
                stale_reason="", at="now", doc_hash="d1")
    base.update(kw)
    return Approval(**base)


def test_stale_reasons():
    now = appr.Binding("a" * 40, "t1", "c1", "d1", "k1")
    assert appr.stale_reason(_approval(), now) == ""
    moved = appr.Binding("b" * 40, "t2", "c1", "d1", "k1")
    assert appr.stale_reason(_approval(), moved).startswith("head moved")
    assert "checklist changed" in appr.stale_reason(_approval(checklist_hash="c0"), now)
    assert "documentation changed" in appr.stale_reason(_approval(doc_hash="d0"), now)
    assert ".hotfix.toml changed" in appr.stale_reason(_approval(config_hash="k0"), now)


def test_checklist_hash_ignores_who_but_not_what():
    a = [ChecklistItem(1, "Root cause", False, True, "alice")]
    b = [ChecklistItem(1, "Root cause", False, True, "bob")]
    c = [ChecklistItem(1, "Root cause", False, False)]
    assert appr.checklist_hash(a) == appr.checklist_hash(b) != appr.checklist_hash(c)


def test_a_person_counts_once():
    approvals = [_approval(approver_account="bob"), _approval(approver_account="bob"),
                 _approval(approver="carol", approver_account="carol", stale=True)]
    judged = appr.judge(appr.Author("alice", "alice"), approvals, appr.STRICT)
    assert appr.valid_approvers(judged) == {"bob"}
    assert [a.counts for a in judged] == [True, False, False]
    assert judged[1].not_counted == "account bob counted already (as bob)"


ALLOWED = appr.Policy(overrides_allowed=True)


def _why(author, approvals, policy=ALLOWED):
    return [a.not_counted for a in appr.judge(author, approvals, policy)]


def test_the_two_person_rule_compares_os_accounts_not_names():
    """The account root authored as alice: it never approves, under any name or case;
    another account counts once however many names it uses."""
    author = appr.Author("alice", "root")
    mine = [_approval(approver="ROOT", approver_verified=False, approver_account="root"),
            _approval(approver="bob", approver_verified=False, approver_account="root"),
            _approval(approver="root", approver_account="root")]
    assert _why(author, mine) == ["by the author's account (root)"] * 3
    assert _why(author, mine, appr.STRICT)[2] == "by the author's account (root)"
    others = [_approval(approver=f"bob{i}", approver_verified=False,
                        approver_account="mallory") for i in range(1, 9)]
    judged = appr.judge(author, others, ALLOWED)
    assert appr.valid_approvers(judged) == {"mallory"}
    assert judged[7].not_counted == "account mallory counted already (as bob1)"
    # a name that is the author's, in another case, from another account: refused too
    assert _why(author, [_approval(approver="Alice", approver_verified=False,
                                   approver_account="dave")]) == [
        "by the author's account (dave)"]


def test_an_override_counts_only_where_overrides_are_allowed():
    bob = _approval(approver="bob", approver_verified=False, approver_account="carol")
    assert _why(appr.Author("alice", "alice"), [bob]) == [""]
    assert _why(appr.Author("alice", "alice"), [bob], appr.STRICT) == [
        "given as bob under an identity override, which this repository does not allow "
        "([identity] allow_override)"]


def test_an_approval_no_event_backs_does_not_count():
    a = _approval(approver_account="bob", backed=False, not_counted="no audit event backs it")
    assert _why(appr.Author("alice", "alice"), [a]) == ["no audit event backs it"]


def test_in_a_sandbox_names_are_people():
    """Demos and tests: one account plays alice, bob and carol."""
    sandbox = appr.Policy(overrides_allowed=True, sandbox=True)
    approvals = [_approval(approver=n, approver_verified=False, approver_account="root")
                 for n in ("bob", "carol", "ALICE")]
    judged = appr.judge(appr.Author("alice", "root"), approvals, sandbox)
    assert appr.valid_approvers(judged) == {"bob", "carol"}
    assert judged[2].not_counted == "by the author (alice)"


def test_the_record_is_every_bound_field():
    rec = appr.record_of(_approval(id=7, approver_account="bob", comment="ok"), "HF-3")
    assert rec == {"approval": 7, "hotfix": "HF-3", "decision": "approved",
                   "approver": "bob", "account": "bob", "verified": True, "sha": "a" * 40,
                   "tree": "t1", "checklist_hash": "c1", "doc_hash": "d1",
                   "config_hash": "k1", "retroactive": False, "comment": "ok", "at": "now"}


def test_judging_copies_an_approval_as_dataclasses_replace_would():
    """judge sets counts, not_counted, counted_as (and backed) on a copy of each approval
    without dataclasses.replace's field-by-field copy: the copy is the same value, the
    original is untouched, and a name that is no field is refused as replace refuses it."""
    import dataclasses

    import pytest

    a = _approval(approver="bob", comment="fine", id=7)
    copy = appr._evolve(a, counts=True, counted_as="bob", backed=False)
    assert copy == dataclasses.replace(a, counts=True, counted_as="bob", backed=False)
    assert hash(copy) == hash(dataclasses.replace(a, counts=True, counted_as="bob",
                                                  backed=False))
    assert (a.counts, a.counted_as, a.backed) == (False, "", True)
    with pytest.raises(TypeError):
        appr._evolve(a, not_a_field=1)
    judged = appr.judge(appr.Author("alice", "alice"), [a], appr.STRICT, {7: "no event"})
    assert judged == (dataclasses.replace(a, backed=False, counts=False,
                                          not_counted="no event"),)
