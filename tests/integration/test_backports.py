"""Backports as maintainers make them, on generated repositories: `missing`, `pick`,
`finish` and `start` give the answers a maintainer would (issue: merges picked with
--mainline, hand-edited backports, empty picks, hotfixes with no commits, old bases)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import assert_one_line_error, commit_file, git
from tests.integration.release_helpers import Release, deploy, document, make_release_repo

ROUNDING_V1 = "def cents(x):\n    return round(x, 2)\n"
ROUNDING_V2 = "def cents(x):\n    return round(x + 0.0, 2)\n"


def merged_pull_request(rel: Release) -> tuple[str, list[str]]:
    """A pull request of three commits merged into main with --no-ff: (merge, commits)."""
    path = rel.path
    git(path, "checkout", "-q", "-b", "pr/rounding", "main")
    members = [commit_file(path, "app/rounding.py", ROUNDING_V1, "Add a cents helper"),
               commit_file(path, "app/rounding.py", ROUNDING_V2, "Cents: accept integers"),
               commit_file(path, "tests/test_rounding.py",
                           "from app.rounding import cents\n\n\ndef test_cents():\n"
                           "    assert cents(1.005) == 1.0\n", "Test the cents helper")]
    git(path, "checkout", "-q", "main")
    git(path, "merge", "-q", "--no-ff", "-m", "Merge pull request #42: cents helper",
        "pr/rounding")
    return git(path, "rev-parse", "HEAD"), members


def branch_at(rel: Release, name: str, start: str) -> None:
    git(rel.path, "checkout", "-q", "-b", name, start)


def start(rel: Release, *args: str) -> dict:
    return rel.ok("start", "--incident", "INC-1", "--title", "Cents helper", *args,
                  "--json").json()


def by_branch(doc: dict) -> dict[str, dict]:
    return {b["branch"]: b for b in doc["branches"]}


def test_a_merged_pull_request_picked_with_mainline(tmp_path):
    rel = make_release_repo(tmp_path, 'forward_port = ["main", "release/1.5", "release/1.6", '
                                      '"release/1.3"]')
    fork = git(rel.path, "rev-parse", "main")
    merge, members = merged_pull_request(rel)
    branch_at(rel, "release/1.5", fork)  # the maintainers picked the merge itself
    git(rel.path, "cherry-pick", "-x", "-m", "1", merge)
    picked_merge = git(rel.path, "rev-parse", "HEAD")
    branch_at(rel, "release/1.6", fork)  # they picked its three commits one by one
    git(rel.path, "cherry-pick", "-x", *members)
    one_by_one = git(rel.path, "rev-list", "--reverse", f"{fork}..HEAD").split()
    git(rel.path, "branch", "release/1.3", "v1.4.0")  # nobody backported it here
    git(rel.path, "checkout", "-q", "main")

    start(rel)
    rel.ok("pick", "HF-1", merge, "--mainline", "1")
    doc = rel.ok("missing", "HF-1", "--json").json()
    assert doc["commits"] == 1 and doc["missing"] is True and doc["probably"] is False
    b = by_branch(doc)
    assert (b["main"]["contained"], b["main"]["evidence"], b["main"]["commit"]) == (
        True, "ancestry", merge)
    assert b["main"]["text"] == f"by ancestry of {merge[:10]}"
    assert (b["release/1.5"]["contained"], b["release/1.5"]["evidence"],
            b["release/1.5"]["commit"]) == (True, "cherry_picked", picked_merge)
    assert b["release/1.6"]["contained"] is True
    assert b["release/1.6"]["evidence"] == "cherry_picked"
    assert b["release/1.6"]["commits"][0]["matches"] == one_by_one
    assert b["release/1.6"]["text"] == "cherry-picked as " + ", ".join(
        c[:10] for c in one_by_one)
    assert (b["release/1.3"]["state"], b["release/1.3"]["contained"],
            b["release/1.3"]["evidence"]) == ("missing", False, None)
    text = rel.ok("missing", "HF-1").out
    assert f"main: contains HF-1: by ancestry of {merge[:10]}" in text
    assert f"release/1.5: contains HF-1: cherry-picked as {picked_merge[:10]}" in text
    assert "release/1.3: missing 1 of 1 commit\n" in text


def hand_edited_backport(rel: Release, name: str = "release/1.5", code: bool = True) -> str:
    """A backport of the fix on main that names it, with a changelog line folded in
    (without `code`, only the changelog: a backport that names the fix but lacks it)."""
    branch_at(rel, name, "v1.4.1")
    fix = rel.svc.fix
    if code:
        (rel.path / "app/checkout.py").write_text(
            git(rel.path, "show", f"{fix}:app/checkout.py") + "\n")
        git(rel.path, "add", "app/checkout.py")
    (rel.path / "CHANGELOG.md").write_text(f"- {name}: totals count quantities\n")
    git(rel.path, "add", "CHANGELOG.md")
    git(rel.path, "commit", "-q", "-m", "Fix checkout total ignoring quantity\n\n"
        f"(cherry picked from commit {fix})")
    sha = git(rel.path, "rev-parse", "HEAD")
    git(rel.path, "checkout", "-q", "main")
    return sha


def test_a_hand_edited_backport_is_probably_there_for_a_person_to_decide(tmp_path):
    rel = make_release_repo(tmp_path, 'forward_port = ["release/1.5", "main"]')
    backport = hand_edited_backport(rel)
    start(rel)
    rel.ok("pick", "HF-1", rel.svc.fix)
    doc = rel.ok("missing", "HF-1", "--json").json()
    b = by_branch(doc)["release/1.5"]
    assert (b["state"], b["contained"], b["evidence"], b["commit"]) == (
        "probably", False, "same_source", backport)
    assert b["text"] == (f"probably: same source, different patch ({backport[:10]} also picks "
                         f"{rel.svc.fix[:10]})")
    assert b["missing"] == [] and doc["probably"] is True and doc["missing"] is False
    assert by_branch(doc)["main"]["evidence"] == "ancestry"
    text = rel.ok("missing", "HF-1").out
    assert (f"release/1.5: probably contains HF-1 (same source, different patch "
            f"({backport[:10]} also picks {rel.svc.fix[:10]})); check it by hand") in text


def test_an_empty_pick_says_the_base_has_the_fix_and_is_not_a_conflict(tmp_path):
    rel = make_release_repo(tmp_path)
    fix = rel.svc.fix
    branch_at(rel, "release/1.4", "v1.4.1")  # 1.4.2 already carries the fix
    git(rel.path, "cherry-pick", "-x", fix)
    backport = git(rel.path, "rev-parse", "HEAD")
    git(rel.path, "tag", "-a", "v1.4.2", "-m", "release 1.4.2")
    git(rel.path, "checkout", "-q", "main")
    hf = start(rel, "--base", "v1.4.2")
    wt = Path(hf["worktree"])

    res = rel.ok("pick", "HF-1", fix, "--json")
    doc = res.json()
    how = f"the base v1.4.2 already has it: cherry-picked as {backport[:10]}"
    assert doc["picked"] == [] and doc["already_there"] == [{"sha": fix, "how": how}]
    assert doc["head_sha"] == hf["base_sha"] == git(wt, "rev-parse", "HEAD")
    assert git(wt, "status", "--porcelain") == ""
    assert rel.ok("pick", "HF-1", fix).out.startswith(f"{fix[:12]}: {how}; nothing to pick")
    actions = rel.actions()
    assert "hotfix.pick_empty" in actions and "hotfix.pick_conflict" not in actions
    assert "now empty" not in res.err

    # with --keep-conflict too: nothing is left in progress, nothing to --continue
    res = rel.ok("pick", "HF-1", fix, "--keep-conflict", "--json")
    assert res.json()["already_there"][0]["sha"] == fix
    assert not (Path(git(wt, "rev-parse", "--absolute-git-dir")) / "CHERRY_PICK_HEAD").exists()
    assert_one_line_error(rel.cli("pick", "HF-1", "--continue"), 1, "no cherry-pick in progress")

    # in a list, the empty one is skipped and the others are picked
    other = git(rel.path, "log", "--format=%H", "-1", "--grep=Rework cart add", "main")
    doc = rel.ok("pick", "HF-1", fix, other, "--json").json()
    assert doc["picked"] == [other] and [a["sha"] for a in doc["already_there"]] == [fix]
    assert f"(cherry picked from commit {other})" in git(wt, "log", "-1", "--format=%B")
    timeline = rel.ok("timeline", "INC-1").out
    assert timeline.count(f"HF-1 nothing picked: {fix[:10]} (the base v1.4.2 already has it: "
                          f"cherry-picked as {backport[:10]})") == 3
    assert (f"HF-1 picked {other[:10]}; already there: {fix[:10]} (the base v1.4.2 already has "
            "it") in timeline


def test_an_empty_resolution_and_skip_are_ways_out_of_a_kept_conflict(tmp_path):
    rel = make_release_repo(tmp_path)
    hf = start(rel)
    wt = Path(hf["worktree"])
    conflicting = rel.svc.conflicting
    res = rel.cli("pick", "HF-1", conflicting, "--keep-conflict")
    assert_one_line_error(res, 1, "cherry-pick conflicts in: app/cart.py")
    assert "--skip" in res.err
    # resolving to the base's side leaves nothing to commit: --continue says so, no dead end
    git(wt, "checkout", "--ours", "--", "app/cart.py")
    git(wt, "add", "app/cart.py")
    done = rel.ok("pick", "HF-1", "--continue", "--json").json()
    assert done["head_sha"] == hf["base_sha"] and done["already_there"][0]["sha"] == conflicting
    assert git(wt, "status", "--porcelain") == ""

    # --skip drops the commit in progress and goes on with the rest
    other = git(rel.path, "log", "--format=%H", "-1", "--grep=Search stub", "main")
    assert rel.cli("pick", "HF-1", conflicting, other, "--keep-conflict").code == 1
    skipped = rel.ok("pick", "HF-1", "--skip", "--json").json()
    assert skipped["skipped"] == [conflicting]
    assert f"(cherry picked from commit {other})" in git(wt, "log", "-1", "--format=%B")
    assert git(wt, "status", "--porcelain") == ""
    assert "hotfix.pick_skipped" in rel.actions()
    assert_one_line_error(rel.cli("pick", "HF-1", "--skip"), 1, "no cherry-pick in progress")
    assert_one_line_error(rel.cli("pick", "HF-1", "--skip", "--abort"), 2, "exclude each other")


def test_missing_after_a_conflicting_pick_has_nothing_to_check(tmp_path):
    rel = make_release_repo(tmp_path, 'forward_port = ["main"]')
    start(rel)
    assert_one_line_error(rel.cli("pick", "HF-1", rel.svc.conflicting), 1, "app/cart.py")
    doc = rel.ok("missing", "HF-1", "--json").json()
    assert doc["commits"] == 0 and doc["nothing_to_check"] is True
    assert [(b["branch"], b["state"], b["contained"]) for b in doc["branches"]] == [
        ("main", "nothing_to_check", None)]
    text = rel.ok("missing", "HF-1").out
    assert "has no commits yet" in text and "nothing to check" in text
    assert "contains" not in text


def test_a_base_older_than_existing_tags_says_once_which_version_and_why(tmp_path):
    rel = make_release_repo(tmp_path)
    for n in range(2, 15):
        git(rel.path, "tag", f"v1.4.{n}", rel.svc.fix)
    res = rel.cli("start", "--incident", "INC-1", "--title", "Cents", "--base", "v1.4.1",
                  "--json")
    assert res.code == 0 and res.json()["version"] == "1.4.15"
    assert res.err == ("warning: 1.4.2 to 1.4.14 are taken (tags v1.4.2 … v1.4.14 exist); "
                       "using 1.4.15\n")


def shipped(rel: Release, pick: list[str]) -> str:
    """start → pick → document → submit → approve → deploy → verify; the hotfix commit."""
    start(rel)
    rel.ok("pick", "HF-1", *pick)
    document(rel)
    rel.ok("submit", "HF-1")
    rel.ok("approve", "HF-1", actor="bob")
    assert deploy(rel).code == 0
    rel.ok("verify", "HF-1", "--env", "production")
    return rel.show()["head_sha"]


def test_finish_never_ports_a_fix_a_branch_has_by_any_evidence(tmp_path):
    rel = make_release_repo(tmp_path, 'forward_port = ["main", "release/1.5", "release/1.6"]')
    merge, _ = merged_pull_request(rel)
    fix = shipped(rel, [merge, "--mainline", "1"])
    # release/1.5: someone forward-ported the hotfix commit by hand and changed it
    branch_at(rel, "release/1.5", "v1.4.1")
    git(rel.path, "cherry-pick", "-x", fix)
    (rel.path / "app/rounding.py").write_text(ROUNDING_V2 + "# reviewed\n")
    git(rel.path, "commit", "-q", "-a", "--amend", "--no-edit")
    by_hand = git(rel.path, "rev-parse", "HEAD")
    # release/1.6: the same change applied with a message of its own (no trailer)
    branch_at(rel, "release/1.6", "v1.4.1")
    git(rel.path, "cherry-pick", "--no-commit", fix)
    git(rel.path, "commit", "-q", "-m", "Cents helper")
    same_patch = git(rel.path, "rev-parse", "HEAD")
    git(rel.path, "checkout", "-q", "main")
    tips = {b: git(rel.path, "rev-parse", b) for b in ("main", "release/1.5", "release/1.6")}

    doc = rel.ok("finish", "HF-1", "--json").json()
    assert doc["state"] == "finished"
    assert [(b["branch"], b["status"], b["commits"], b["evidence"]) for b in doc["branches"]] == [
        ("main", "already_present", [fix], [
            {"sha": fix, "evidence": "ancestry", "text": f"by ancestry of {merge[:10]}"}]),
        ("release/1.5", "already_present", [fix], [
            {"sha": fix, "evidence": "cherry_picked", "text": f"cherry-picked as {by_hand[:10]}"}]),
        ("release/1.6", "already_present", [fix], [
            {"sha": fix, "evidence": "patch_id", "text": f"same patch as {same_patch[:10]}"}])]
    assert {b: git(rel.path, "rev-parse", b) for b in tips} == tips
    assert "finish.ported" not in rel.actions()
    assert git(rel.path, "worktree", "list", "--porcelain").count("hotfix/finish") == 0
    text = rel.ok("timeline", "INC-1").out
    assert f"HF-1 already in main (by ancestry of {merge[:10]}); nothing to apply" in text


def test_finish_waits_for_a_person_when_a_branch_probably_has_the_fix(tmp_path):
    rel = make_release_repo(tmp_path, 'forward_port = ["release/1.5", "release/1.6"]')
    backport = hand_edited_backport(rel, "release/1.5")
    hand_edited_backport(rel, "release/1.6", code=False)
    shipped(rel, [rel.svc.fix])
    tips = {b: git(rel.path, "rev-parse", b) for b in ("release/1.5", "release/1.6")}
    res = rel.cli("finish", "HF-1", "--json")
    assert_one_line_error(res, 1, f"release/1.5 probably: same source, different patch "
                                  f"({backport[:10]} also picks {rel.svc.fix[:10]})")
    assert "'hotfix finish HF-1 --continue --present release/1.5 --present release/1.6'" \
        in res.err
    assert [(b["branch"], b["status"]) for b in res.json()["branches"]] == [
        ("release/1.5", "undecided"), ("release/1.6", "undecided")]
    assert {b: git(rel.path, "rev-parse", b) for b in tips} == tips
    assert rel.show()["state"] == "verified"

    assert_one_line_error(rel.cli("finish", "HF-1", "--continue", "--present", "release/9"),
                          1, "release/9 is not a forward-port branch")
    assert_one_line_error(rel.cli("finish", "HF-1", "--continue", "--present", "release/1.5",
                                  "--port", "release/1.5"), 1, "exclude each other")
    doc = rel.ok("finish", "HF-1", "--continue", "--present", "release/1.5", "--port",
                 "release/1.6", "--json").json()
    assert doc["state"] == "finished"
    assert [(b["branch"], b["status"]) for b in doc["branches"]] == [
        ("release/1.5", "already_present"), ("release/1.6", "ported")]
    assert git(rel.path, "rev-parse", "release/1.5") == tips["release/1.5"]
    assert git(rel.path, "rev-parse", "release/1.6~1") == tips["release/1.6"]
    assert rel.actions().count("finish.decided") == 2
    assert "finish.undecided" in rel.actions()
