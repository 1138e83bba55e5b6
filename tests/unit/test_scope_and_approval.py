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
    approvals = [_approval(), _approval(), _approval(approver="carol", stale=True)]
    assert appr.valid_approvers(approvals) == {"bob"}
