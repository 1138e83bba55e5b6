"""Start → pick → scope → check → edit → submit → approve, against real repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import (
    assert_one_line_error,
    commit_file,
    git,
    make_service_repo,
)


@pytest.fixture
def svc(tmp_path: Path):
    r = make_service_repo(tmp_path / "shop")
    assert r.cli("incident", "open", "--title", "Checkout totals wrong", "--sev", "1").code == 0
    return r


def _start(svc, title="Fix checkout total") -> dict:
    res = svc.cli("start", "--incident", "INC-1", "--title", title, "--json")
    assert res.code == 0, res.err
    return res.json()


def _ready(svc, key="HF-1"):
    assert svc.cli("pick", key, svc.fix).code == 0
    assert svc.cli("edit", key, "--why", "Totals ignore quantity", "--risk", "Low",
                   "--test-plan", "Unit tests", "--rollback-plan", "Roll back to 1.4.1").code == 0
    for n in (1, 2):
        assert svc.cli("check", key, str(n)).code == 0


def test_the_whole_path_with_json_at_each_step(svc):
    main_head = git(svc.path, "rev-parse", "HEAD")
    hf = _start(svc)
    assert hf["key"] == "HF-1" and hf["state"] == "draft" and hf["version"] == "1.4.2"
    assert hf["base_ref"] == "v1.4.1" and hf["head_sha"] == svc.v141
    assert hf["branch"] == "hotfix/1.4.2" and hf["author"] == "alice"
    wt = Path(hf["worktree"])
    assert (wt / "app" / "checkout.py").exists()
    assert git(wt, "rev-parse", "--abbrev-ref", "HEAD") == "hotfix/1.4.2"

    picked = svc.cli("pick", "HF-1", svc.fix, "--json").json()
    assert picked["head_sha"] != svc.v141
    assert f"(cherry picked from commit {svc.fix})" in git(wt, "log", "-1", "--format=%B")

    scope = svc.cli("scope", "HF-1", "--json").json()
    assert scope["files_changed"] == 1 and scope["insertions"] == 1 and scope["deletions"] == 1
    assert scope["files"] == [{"path": "app/checkout.py", "insertions": 1, "deletions": 1,
                               "binary": False, "status": "M", "old_path": None}]
    assert scope["violations"] == []

    items = svc.cli("checklist", "HF-1", "--json").items()
    manual = [i for i in items if not i["automatic"]]
    auto = [i for i in items if i["automatic"]]
    assert [i["text"] for i in manual] == ["Root cause understood",
                                           "Rollback plan tested or obvious"]
    assert all(i["passed"] for i in auto) and auto[0]["n"] == 3

    refused = svc.cli("submit", "HF-1")
    assert_one_line_error(refused, 1, "submit HF-1 refused")
    for reason in ("why is empty", "risk is empty", "test plan is empty",
                   "rollback plan is empty", "item 1 not ticked", "item 2 not ticked"):
        assert reason in refused.err

    edited = svc.cli("edit", "HF-1", "--why", "Totals ignore quantity", "--risk", "Low",
                     "--test-plan", "Unit tests", "--rollback-plan", "Roll back to 1.4.1",
                     "--json").json()
    assert edited["why"] == "Totals ignore quantity"
    ticked = svc.cli("check", "HF-1", "1", "--json").json()  # the hotfix, as `show` has it
    assert ticked["key"] == "HF-1" and ticked["schema_version"] == 1
    assert ticked["checklist"][0]["checked"] and ticked["checklist"][0]["checked_by"] == "alice"
    assert svc.cli("check", "HF-1", "2").code == 0

    submitted = svc.cli("submit", "HF-1", "--json").json()
    assert submitted["state"] == "in_review"

    approved = svc.cli("approve", "HF-1", "--comment", "LGTM", "--json", actor="bob").json()
    assert approved["state"] == "approved"
    (a,) = approved["approvals"]
    assert a["approver"] == "bob" and a["decision"] == "approved" and a["stale"] is False
    assert a["sha"] == approved["head_sha"] and a["comment"] == "LGTM" and a["at"]

    shown = svc.cli("show", "HF-1", "--json").json()
    for k in ("key", "title", "state", "incident", "author", "base_ref", "branch", "worktree",
              "head_sha", "version", "why", "risk", "test_plan", "rollback_plan", "approvals",
              "checklist"):
        assert k in shown
    for item in shown["checklist"]:
        assert {"n", "text", "automatic", "checked", "checked_by", "passed"} <= set(item)
    listed = svc.cli("list", "--json").items()
    assert [h["key"] for h in listed] == ["HF-1"] and listed[0]["state"] == "approved"

    assert git(svc.path, "rev-parse", "HEAD") == main_head
    assert git(svc.path, "status", "--porcelain") == ""
    assert svc.cli("audit", "verify").out.strip().startswith("ok:")


def _approved(svc):
    _start(svc)
    _ready(svc)
    assert svc.cli("submit", "HF-1").code == 0
    assert svc.cli("approve", "HF-1", actor="bob").json if True else None
    assert svc.cli("show", "HF-1", "--json").json()["state"] == "approved"


def _approvals(svc):
    return svc.cli("show", "HF-1", "--json").json()


def test_stale_when_a_commit_is_added_in_the_worktree(svc):
    _approved(svc)
    wt = Path(_approvals(svc)["worktree"])
    commit_file(wt, "app/checkout.py", (wt / "app/checkout.py").read_text() + "# more\n",
                "Extra change by hand")
    shown = _approvals(svc)
    assert shown["state"] == "in_review"
    assert shown["approvals"][0]["stale"] is True
    assert "head moved" in shown["approvals"][0]["stale_reason"]
    assert shown["head_sha"] == git(wt, "rev-parse", "HEAD")


def test_stale_when_a_checklist_item_is_unticked(svc):
    _approved(svc)
    assert svc.cli("check", "HF-1", "1", "--uncheck").code == 0
    shown = _approvals(svc)
    assert shown["state"] == "in_review"
    assert shown["approvals"][0]["stale"] and "checklist" in shown["approvals"][0]["stale_reason"]


def test_stale_when_the_config_changes(svc):
    _approved(svc)
    cfg = svc.path / ".hotfix.toml"
    cfg.write_text(cfg.read_text().replace("max_lines = 50", "max_lines = 500"))
    shown = _approvals(svc)
    assert shown["state"] == "in_review"
    assert ".hotfix.toml changed" in shown["approvals"][0]["stale_reason"]
    # a stale approval does not count: approving again by the same person counts anew
    again = svc.cli("approve", "HF-1", "--json", actor="bob").json()
    assert again["state"] == "approved"
    assert [a["stale"] for a in again["approvals"]] == [True, False]


def test_self_approval_refused_and_a_person_counts_once(tmp_path):
    svc = make_service_repo(tmp_path / "shop", config=(
        "[identity]\nallow_override = true\nsandbox = true\n[approvals]\nrequired = 2\n"
        "[scope]\nchecklist = [\"Root cause understood\", \"Rollback plan tested or obvious\"]\n"))
    assert svc.cli("incident", "open", "--title", "t", "--sev", "1").code == 0
    _start(svc)
    _ready(svc)
    assert svc.cli("submit", "HF-1").code == 0
    own = svc.cli("approve", "HF-1")
    assert_one_line_error(own, 1, "you authored HF-1")
    assert svc.cli("approve", "HF-1", actor="bob").code == 0
    assert svc.cli("approve", "HF-1", actor="bob").code == 0
    shown = _approvals(svc)
    assert shown["state"] == "in_review"
    assert len(shown["approvals"]) == 1
    assert svc.cli("approve", "HF-1", actor="carol").json if True else None
    assert _approvals(svc)["state"] == "approved"


def test_reject_returns_to_draft_with_comment(svc):
    _start(svc)
    _ready(svc)
    assert svc.cli("submit", "HF-1").code == 0
    assert_one_line_error(svc.cli("reject", "HF-1", "--comment", " ", actor="bob"), 1,
                          "needs a --comment")
    res = svc.cli("reject", "HF-1", "--comment", "Needs a test", "--json", actor="bob")
    hf = res.json()
    assert hf["state"] == "draft"
    assert hf["approvals"][-1]["decision"] == "rejected"
    assert hf["approvals"][-1]["comment"] == "Needs a test"


def _snapshot(wt: Path) -> tuple:
    files = {p.relative_to(wt).as_posix(): p.read_bytes() for p in sorted(wt.rglob("*"))
             if p.is_file() and ".git" not in p.parts}
    return (git(wt, "rev-parse", "HEAD"), git(wt, "ls-files", "-s"), files,
            git(wt, "status", "--porcelain"))


def test_conflicting_pick_leaves_everything_as_before(svc):
    hf = _start(svc)
    wt = Path(hf["worktree"])
    assert svc.cli("pick", "HF-1", svc.fix).code == 0
    before = _snapshot(wt)
    res = svc.cli("pick", "HF-1", svc.conflicting)
    assert_one_line_error(res, 1, "conflicts in: app/cart.py")
    assert _snapshot(wt) == before


def test_keep_conflict_then_continue(svc):
    hf = _start(svc)
    wt = Path(hf["worktree"])
    res = svc.cli("pick", "HF-1", svc.conflicting, "--keep-conflict")
    assert_one_line_error(res, 1, "app/cart.py")
    assert "<<<<<<<" in (wt / "app/cart.py").read_text()
    still = svc.cli("pick", "HF-1", "--continue")
    assert_one_line_error(still, 1, "unresolved conflicts remain")
    (wt / "app/cart.py").write_text("def add(cart, item):\n    cart.append(item)\n"
                                    "    return list(cart)\n")
    git(wt, "add", "app/cart.py")
    done = svc.cli("pick", "HF-1", "--continue", "--json")
    assert done.code == 0, done.err
    assert done.json()["head_sha"] == git(wt, "rev-parse", "HEAD") != svc.v141
    assert git(wt, "status", "--porcelain") == ""


def test_keep_conflict_then_abort(svc):
    hf = _start(svc)
    wt = Path(hf["worktree"])
    before = _snapshot(wt)
    assert svc.cli("pick", "HF-1", svc.conflicting, "--keep-conflict").code == 1
    assert svc.cli("pick", "HF-1", "--abort").code == 0
    assert _snapshot(wt) == before


def test_merge_commit_needs_mainline(svc):
    _start(svc)
    res = svc.cli("pick", "HF-1", svc.merge)
    assert_one_line_error(res, 1, "merge commit; give --mainline")
    ok = svc.cli("pick", "HF-1", svc.merge, "--mainline", "1")
    assert ok.code == 0, ok.err
    bad = svc.cli("pick", "HF-1", svc.fix, "--mainline", "1")
    assert_one_line_error(bad, 1, "not a merge commit")


def test_two_hotfixes_at_once_leave_the_main_checkout_alone(svc):
    (svc.path / "scratch.txt").write_text("engineer's uncommitted work\n")
    main_head = git(svc.path, "rev-parse", "HEAD")
    one = _start(svc, "First")
    two = _start(svc, "Second")
    assert one["version"] == "1.4.2" and two["version"] == "1.4.3"
    assert one["worktree"] != two["worktree"]
    assert svc.cli("pick", "HF-1", svc.fix).code == 0
    assert svc.cli("pick", "HF-2", svc.fix).code == 0
    assert git(svc.path, "rev-parse", "HEAD") == main_head
    assert git(svc.path, "status", "--porcelain") == "?? scratch.txt"
    assert git(svc.path, "rev-parse", "--abbrev-ref", "HEAD") == "main"


def test_version_skips_an_existing_branch_or_tag_and_says_so(svc):
    git(svc.path, "branch", "hotfix/1.4.2", svc.v141)
    res = svc.cli("start", "--incident", "INC-1", "--title", "t", "--json")
    assert res.code == 0
    assert res.json()["version"] == "1.4.3"
    assert res.err == "warning: 1.4.2 is taken (branch hotfix/1.4.2 exists); using 1.4.3\n"
    git(svc.path, "tag", "v1.4.4", svc.fix)
    res = svc.cli("start", "--incident", "INC-1", "--title", "t", "--base", "v1.4.1", "--json")
    assert res.code == 0 and res.json()["version"] == "1.4.5"
    assert res.err == ("warning: 1.4.2 to 1.4.4 are taken (tag v1.4.4 exists, branches "
                       "hotfix/1.4.2 and hotfix/1.4.3 exist); using 1.4.5\n")
    assert res.json()["notes"] == [res.err.removeprefix("warning: ").strip()]


def test_abandon_removes_worktree_keeps_branch_and_record(svc):
    hf = _start(svc)
    res = svc.cli("abandon", "HF-1", "--reason", "Wrong approach", "--json")
    assert res.code == 0 and res.json()["state"] == "abandoned"
    assert not Path(hf["worktree"]).exists()
    assert git(svc.path, "rev-parse", "--verify", "refs/heads/hotfix/1.4.2")


def test_worktree_deleted_by_hand_is_reported_and_repairable(svc):
    import shutil

    hf = _start(svc)
    shutil.rmtree(hf["worktree"])
    res = svc.cli("pick", "HF-1", svc.fix)
    assert_one_line_error(res, 1, "worktree")
    assert "hotfix worktree HF-1" in res.err
    assert svc.cli("worktree", "HF-1").code == 0
    assert svc.cli("pick", "HF-1", svc.fix).code == 0


def test_init_writes_a_valid_template_once(tmp_path):
    from tests.helpers import init_repo, run

    repo = init_repo(tmp_path / "r")
    assert run(["init"], cwd=repo).code == 0
    assert (repo / ".hotfix.toml").read_text().startswith("# hotfix-tui configuration")
    assert_one_line_error(run(["init"], cwd=repo), 1, "already exists")
