"""`hotfix finish` and `hotfix missing` against real repositories, real deploys."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import assert_one_line_error, git
from tests.integration.release_helpers import (
    CLEAN_FIX,
    CONFLICTING_FIX,
    approved_hotfix,
    deploy,
    document,
    make_release_repo,
    repo_state,
    verified_hotfix,
)

TWO_BRANCHES = 'forward_port = ["main", "release/1.5"]'


def _contains(repo: Path, branch: str, text: str, path: str) -> bool:
    return text in git(repo, "show", f"{branch}:{path}")


def test_finish_where_main_moved_on_takes_the_fix_cleanly(tmp_path):
    rel, fix = verified_hotfix(tmp_path, hotfix_section=TWO_BRANCHES)
    git(rel.path, "branch", "release/1.5", "main~1")  # not checked out anywhere
    deployed = rel.show()["head_sha"]
    main_before = git(rel.path, "rev-parse", "main")

    res = rel.ok("finish", "HF-1", "--json")
    doc = res.json()
    assert doc["hotfix"] == "HF-1" and doc["tag"] == "v1.4.2" and doc["state"] == "finished"
    assert [(b["branch"], b["status"], b["commits"]) for b in doc["branches"]] == [
        ("main", "ported", [fix]), ("release/1.5", "ported", [fix])]

    # an annotated tag at the deployed commit, whose message summarises the record
    assert git(rel.path, "cat-file", "-t", "v1.4.2") == "tag"
    assert git(rel.path, "rev-parse", "v1.4.2^{commit}") == deployed
    message = git(rel.path, "tag", "-l", "--format=%(contents)", "v1.4.2")
    for part in ("HF-1 1.4.2: Round tax to cents", "Incident: INC-1 (SEV1", "Why: Tax is",
                 "bob (unverified) approved at", "D-1 deploy production succeeded",
                 "Verified: on production by alice"):
        assert part in message

    # main (checked out and clean here) was fast-forwarded; release/1.5 moved by CAS
    assert git(rel.path, "rev-parse", "main~1") == main_before
    assert git(rel.path, "rev-parse", "HEAD") == git(rel.path, "rev-parse", "main")
    assert git(rel.path, "status", "--porcelain") == ""
    assert "round(amount * 0.2, 2)" in (rel.path / "app/checkout.py").read_text()
    for branch in ("main", "release/1.5"):
        assert _contains(rel.path, branch, "round(amount * 0.2, 2)", "app/checkout.py")
        assert f"(cherry picked from commit {fix})" in git(rel.path, "log", "-1",
                                                             "--format=%B", branch)
    assert rel.show()["state"] == "finished" and rel.show()["tag"] == "v1.4.2"
    assert list((rel.path / ".git" / "hotfix" / "finish").iterdir()) == []

    missing = rel.ok("missing", "HF-1", "--json").json()
    assert missing["missing"] is False
    assert [(b["branch"], b["contained"], b["missing"]) for b in missing["branches"]] == [
        ("main", True, []), ("release/1.5", True, [])]
    assert "main: contains HF-1" in rel.ok("missing", "HF-1").out

    actions = rel.actions()
    for action in ("finish.started", "finish.tag_created", "finish.ported", "hotfix.finished"):
        assert action in actions
    assert actions.count("finish.ported") == 2

    # a second finish changes nothing
    before = repo_state(rel)
    again = rel.ok("finish", "HF-1", "--json").json()
    assert again["state"] == "finished" and again["branches"] == doc["branches"]
    assert repo_state(rel) == before
    assert rel.ok("audit", "verify").out.startswith("ok:")


def test_missing_lists_what_a_branch_lacks_before_the_finish(tmp_path):
    rel, fix = verified_hotfix(tmp_path)
    report = rel.ok("missing", "HF-1", "--branch", "feature", "--json").json()
    assert report["missing"] is True
    by_branch = {b["branch"]: b for b in report["branches"]}
    assert by_branch["main"]["missing"] == [{"sha": fix, "subject": "Round tax to cents"}]
    assert by_branch["feature"]["contained"] is False
    text = rel.ok("missing", "HF-1").out
    assert "main: missing 1 of 1 commit\n" in text and fix[:12] in text
    assert by_branch["main"]["state"] == "missing" and by_branch["main"]["evidence"] is None


def test_finish_conflict_then_continue(tmp_path):
    rel, fix = verified_hotfix(tmp_path, CONFLICTING_FIX)
    res = rel.cli("finish", "HF-1", "--json")
    assert_one_line_error(res, 1, "forward-port to main stopped on a conflict in app/cart.py")
    (branch,) = res.json()["branches"]
    wt = Path(branch["worktree"])
    assert branch["status"] == "conflict" and branch["files"] == ["app/cart.py"]
    assert str(wt) in res.err and "--continue" in res.err
    assert wt.parent == rel.path / ".git" / "hotfix" / "finish"
    assert "<<<<<<<" in (wt / "app/cart.py").read_text()
    assert rel.show()["state"] == "verified"
    assert git(rel.path, "rev-parse", "v1.4.2^{commit}") == rel.show()["head_sha"]
    main_before = git(rel.path, "rev-parse", "main")

    # unresolved: --continue stops again, still one line, nothing moves
    still = rel.cli("finish", "HF-1", "--continue")
    assert_one_line_error(still, 1, "conflict in app/cart.py")
    assert git(rel.path, "rev-parse", "main") == main_before

    (wt / "app/cart.py").write_text("def add(cart, item, qty=1):\n    cart.extend([item] * qty)\n"
                                    "    return cart[:]\n")
    git(wt, "add", "app/cart.py")
    done = rel.ok("finish", "HF-1", "--continue", "--json").json()
    assert done["state"] == "finished"
    assert done["branches"][0]["status"] == "ported"
    assert git(rel.path, "rev-parse", "main~1") == main_before
    assert "return cart[:]" in (rel.path / "app/cart.py").read_text()
    assert f"(cherry picked from commit {fix})" in git(rel.path, "log", "-1", "--format=%B")
    assert not wt.exists()
    assert rel.ok("missing", "HF-1", "--json").json()["missing"] is False
    assert "finish.conflict" in rel.actions() and "finish.resolved" in rel.actions()


def test_finish_conflict_then_abort_leaves_everything_as_before(tmp_path):
    rel, _ = verified_hotfix(tmp_path, CONFLICTING_FIX,
                             hotfix_section='forward_port = ["release/1.4", "main"]')
    git(rel.path, "branch", "release/1.4", "v1.4.1")
    before = repo_state(rel)
    res = rel.cli("finish", "HF-1", "--json")
    assert_one_line_error(res, 1, "main")
    statuses = {b["branch"]: b["status"] for b in res.json()["branches"]}
    assert statuses == {"release/1.4": "ported", "main": "conflict"}
    assert git(rel.path, "rev-parse", "release/1.4") != git(rel.path, "rev-parse", "v1.4.1")
    assert git(rel.path, "tag", "-l", "v1.4.2") == "v1.4.2"

    undone = rel.ok("finish", "HF-1", "--abort", "--json").json()
    assert undone["restored"] == ["release/1.4"] and undone["tag_removed"] == "v1.4.2"
    after = repo_state(rel)
    assert after.pop("audit") > before.pop("audit")  # the finish and its abort are recorded
    assert after == before
    assert "finish.aborted" in rel.actions()
    assert_one_line_error(rel.cli("finish", "HF-1", "--abort"), 1, "no finish in progress")


def test_abort_keeps_a_tag_the_finish_did_not_create(tmp_path):
    rel, _ = verified_hotfix(tmp_path, CONFLICTING_FIX)
    deployed = rel.show()["head_sha"]
    git(rel.path, "tag", "-a", "-m", "made by hand", "v1.4.2", deployed)
    tag = git(rel.path, "rev-parse", "v1.4.2")
    assert rel.cli("finish", "HF-1").code == 1
    assert "finish.tag_existing" in rel.actions()
    assert rel.ok("finish", "HF-1", "--abort", "--json").json()["tag_removed"] is None
    assert git(rel.path, "rev-parse", "v1.4.2") == tag


def test_a_fix_cherry_picked_by_hand_is_not_applied_twice(tmp_path):
    rel, fix = verified_hotfix(tmp_path)
    git(rel.path, "cherry-pick", "-x", fix)  # the engineer got there first, on main
    main_head = git(rel.path, "rev-parse", "main")
    assert rel.ok("missing", "HF-1", "--json").json()["missing"] is False

    doc = rel.ok("finish", "HF-1", "--json").json()
    assert doc["state"] == "finished"
    by_hand = git(rel.path, "rev-parse", "main")
    assert doc["branches"] == [{"branch": "main", "status": "already_present",
                                "commits": [fix], "files": [], "worktree": None,
                                "message": None, "evidence": [
                                    {"sha": fix, "evidence": "cherry_picked",
                                     "text": f"cherry-picked as {by_hand[:10]}"}]}]
    assert git(rel.path, "rev-parse", "main") == main_head
    assert len(git(rel.path, "log", "--format=%H", "--grep=Round tax", "main").split()) == 1
    assert "finish.already_present" in rel.actions()


def test_a_dirty_checkout_is_never_touched(tmp_path):
    rel, fix = verified_hotfix(tmp_path)
    (rel.path / "app/search.py").write_text("def search(q):\n    return ['wip']\n")
    head = git(rel.path, "rev-parse", "HEAD")
    res = rel.cli("finish", "HF-1", "--json")
    assert_one_line_error(res, 1, f"main is checked out in {rel.path} with uncommitted changes")
    assert "commit or stash" in res.err
    (branch,) = res.json()["branches"]
    assert branch["status"] == "blocked" and branch["files"] == ["app/search.py"]
    assert git(rel.path, "rev-parse", "HEAD") == head
    assert git(rel.path, "status", "--porcelain") == "M app/search.py"
    assert "wip" in (rel.path / "app/search.py").read_text()
    assert rel.show()["state"] == "verified"

    assert_one_line_error(rel.cli("finish", "HF-1"), 1, "uncommitted changes")
    git(rel.path, "stash")
    # a plain finish resumes where the first one stopped, like --continue
    assert rel.ok("finish", "HF-1", "--json").json()["state"] == "finished"
    git(rel.path, "stash", "pop")
    assert git(rel.path, "rev-parse", "HEAD~1") == head
    assert "round(amount * 0.2, 2)" in (rel.path / "app/checkout.py").read_text()
    assert "wip" in (rel.path / "app/search.py").read_text()


def _remote(rel) -> Path:
    bare = rel.path.parent / "remote.git"
    git(rel.path.parent, "clone", "-q", "--bare", str(rel.path), str(bare))
    git(rel.path, "remote", "add", "origin", str(bare))
    return bare


def test_push_sends_the_tag_and_branches_to_the_remote(tmp_path):
    rel, _ = verified_hotfix(tmp_path)
    bare = _remote(rel)
    doc = rel.ok("finish", "HF-1", "--push", "--json").json()
    assert doc["state"] == "finished" and doc["remote"] == "origin"
    assert doc["pushed"] == ["refs/tags/v1.4.2", "refs/heads/main"]
    assert git(bare, "rev-parse", "main") == git(rel.path, "rev-parse", "main")
    assert git(bare, "rev-parse", "v1.4.2") == git(rel.path, "rev-parse", "v1.4.2")
    assert "finish.pushed" in rel.actions()


def test_push_refuses_a_non_fast_forward(tmp_path):
    rel, _ = verified_hotfix(tmp_path)
    bare = _remote(rel)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(bare), str(other))
    (other / "NOTES.md").write_text("someone else's work\n")
    git(other, "add", "NOTES.md")
    git(other, "commit", "-q", "-m", "Notes")
    git(other, "push", "-q", "origin", "main")
    remote_main = git(bare, "rev-parse", "main")

    res = rel.cli("finish", "HF-1", "--push")
    assert_one_line_error(res, 1, "push to origin refused: main")
    assert git(bare, "rev-parse", "main") == remote_main
    assert git(bare, "tag", "-l", "v1.4.2") == ""  # atomic: the tag did not go either
    assert rel.show()["state"] == "finished"  # finished here; only the push failed
    assert "finish.push_refused" in rel.actions()
    assert_one_line_error(rel.cli("finish", "HF-1", "--push"), 1, "refused")


def test_skip_verify_is_required_from_deployed_and_recorded(tmp_path):
    rel = make_release_repo(tmp_path)
    approved_hotfix(rel)
    assert deploy(rel).code == 0
    before = repo_state(rel)
    assert_one_line_error(rel.cli("finish", "HF-1"), 1, "not verified")
    assert_one_line_error(rel.cli("finish", "HF-1", "--skip-verify", " "), 1, "needs a reason")
    assert repo_state(rel) == before

    doc = rel.ok("finish", "HF-1", "--skip-verify", "health endpoint down", "--json").json()
    assert doc["state"] == "finished"
    assert rel.show()["skip_verify_reason"] == "health endpoint down"
    assert "Verification skipped: health endpoint down" in git(
        rel.path, "tag", "-l", "--format=%(contents)", "v1.4.2")
    text = rel.ok("export", "HF-1").out
    assert "**Verification skipped**: health endpoint down" in text


def test_break_glass_without_retroactive_approval_is_refused(tmp_path):
    rel = make_release_repo(tmp_path)
    rel.ok("start", "--incident", "INC-1", "--title", "Round tax")
    from tests.integration.release_helpers import commit_fix

    commit_fix(rel, CLEAN_FIX)
    document(rel)
    assert rel.cli("deploy", "HF-1", "--env", "production", "--break-glass", "site down").code == 0
    rel.ok("verify", "HF-1", "--env", "production")
    before = repo_state(rel)
    assert_one_line_error(rel.cli("finish", "HF-1"), 1, "approval after the fact")
    assert repo_state(rel) == before
    rel.ok("approve", "HF-1", actor="bob")
    assert rel.ok("finish", "HF-1", "--json").json()["state"] == "finished"


def _killed_mid_pick(rel, tmp_path: Path) -> None:
    """Run finish as a real process and kill -9 it (and the git it ran) in the middle of
    the forward-port's cherry-pick, leaving the lock that git held behind."""
    import os
    import shutil

    from tests.helpers import run_proc

    wrapper = tmp_path / "bin" / "git"
    wrapper.parent.mkdir()
    real = shutil.which("git")
    wrapper.write_text(f"""#!/bin/sh
case " $* " in *" cherry-pick -x "*)
  touch "$({real} rev-parse --absolute-git-dir)/index.lock"; kill -9 $PPID; exit 137;;
esac
exec {real} "$@"
""")
    wrapper.chmod(0o755)
    res = run_proc(["finish", "HF-1"], cwd=rel.path,
                   env={"PATH": f"{wrapper.parent}:{os.environ['PATH']}", "HOTFIX_ACTOR": "alice"})
    assert res.code == -9


def test_finish_retried_after_a_kill_names_the_conflict(tmp_path):
    """Not "conflict in ?": the lock the killed git left is cleared, the pick runs again
    and the real conflict is reported; --continue resumes from there."""
    rel, _ = verified_hotfix(tmp_path, CONFLICTING_FIX)
    _killed_mid_pick(rel, tmp_path)
    res = rel.cli("finish", "HF-1")
    assert_one_line_error(res, 1, "forward-port to main stopped on a conflict in app/cart.py")
    assert "?" not in res.err
    again = rel.cli("finish", "HF-1", "--continue")
    assert_one_line_error(again, 1, "conflict in app/cart.py")


def test_finish_says_what_git_could_not_do_when_it_is_not_a_conflict(tmp_path):
    """While a git works in the temporary worktree, its lock is not taken away: finish
    says what stopped git (not a conflict), and runs on once it is gone."""
    import subprocess

    rel, _ = verified_hotfix(tmp_path, CONFLICTING_FIX)
    _killed_mid_pick(rel, tmp_path)
    wt = rel.path / ".git" / "hotfix" / "finish" / "HF-1-main"
    busy = subprocess.Popen(["git", "-c", "alias.wait=!sleep 60", "wait"], cwd=wt)
    try:
        res = rel.cli("finish", "HF-1")
        assert_one_line_error(res, 1, "git could not cherry-pick")
        assert "index.lock" in res.err and "--continue" in res.err and "?" not in res.err
        assert rel.show()["state"] == "verified"
    finally:
        busy.kill()
        busy.wait()
    res = rel.cli("finish", "HF-1", "--continue")
    assert_one_line_error(res, 1, "conflict in app/cart.py")
