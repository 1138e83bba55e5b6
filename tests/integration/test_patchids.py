"""hotfix_tui.patchids against git itself: "the same patch" means what `git patch-id
--stable` and `git cherry` say, and the facts for a branch come from the range git cherry
walks."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from hotfix_tui import patchids
from hotfix_tui.core.backport import judge
from tests.helpers import GIT_ENV, commit_file, git, init_repo

LINES = [f"line {i}\n" for i in range(30)]


def _write(repo: Path, rel: str, lines: list[str], message: str) -> str:
    return commit_file(repo, rel, "".join(lines), message)


def _edit(lines: list[str], n: int, text: str) -> list[str]:
    out = list(lines)
    out[n] = text
    return out


def git_patch_id(repo: Path, sha: str) -> str:
    env = {**os.environ, **GIT_ENV}
    show = subprocess.run(["git", "show", "--no-renames", sha], cwd=repo, capture_output=True,
                          check=True, env=env).stdout
    out = subprocess.run(["git", "patch-id", "--stable"], cwd=repo, input=show,
                         capture_output=True, check=True, env=env).stdout.decode()
    return out.split()[0] if out.strip() else ""


def test_same_patch_means_what_git_patch_id_says(tmp_path):
    repo = init_repo(tmp_path / "r")
    _write(repo, "app/x.py", LINES, "base")
    (repo / "logo.bin").write_bytes(b"\x00\x01 one")
    git(repo, "add", "logo.bin")
    git(repo, "commit", "-q", "-m", "logo")
    base = git(repo, "rev-parse", "HEAD")
    fix = _write(repo, "app/x.py", _edit(LINES, 5, "line 5 fixed\n"), "fix")
    shas = {"fix": fix}
    for name, lines in (("spaces", _edit(LINES, 5, "line  5   fixed\n")),
                        ("other", _edit(LINES, 9, "line 9 fixed\n"))):
        git(repo, "checkout", "-q", "-b", name, base)
        shas[name] = _write(repo, "app/x.py", lines, name)
    git(repo, "checkout", "-q", "-b", "picked", base)
    git(repo, "cherry-pick", fix)
    shas["picked"] = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "context", base)  # same lines changed, context moved
    _write(repo, "app/x.py", _edit(LINES, 3, "line 3 reworded\n"), "reword line 3")
    shas["context"] = _write(repo, "app/x.py", _edit(_edit(LINES, 3, "line 3 reworded\n"), 5,
                                                     "line 5 fixed\n"), "fix by hand")
    for name, data in (("bin-a", b"\x00\x02 two"), ("bin-b", b"\x00\x03 three")):
        git(repo, "checkout", "-q", "-b", name, base)
        (repo / "logo.bin").write_bytes(data)
        git(repo, "commit", "-q", "-am", name)
        shas[name] = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "bin-a-again", base)
    git(repo, "cherry-pick", shas["bin-a"])
    shas["bin-a-again"] = git(repo, "rev-parse", "HEAD")

    patches = {c.sha: c.patch for c in patchids.read_commits(repo, list(shas.values())).changes}
    theirs = {s: git_patch_id(repo, s) for s in shas.values()}
    names = list(shas)
    for a in names:
        for b in names:
            same_ours = patches[shas[a]].exact == patches[shas[b]].exact
            same_git = theirs[shas[a]] == theirs[shas[b]]
            assert same_ours == same_git, (a, b)
    # git counts the whitespace-only variant and the plain pick as the same patch …
    assert patches[fix].exact == patches[shas["spaces"]].exact == patches[shas["picked"]].exact
    # … and a copy whose context moved as another; only the loose fingerprint matches it
    assert patches[fix].exact != patches[shas["context"]].exact
    assert patches[fix].loose == patches[shas["context"]].loose
    assert patches[shas["bin-a"]].exact == patches[shas["bin-a-again"]].exact
    assert patches[shas["bin-a"]].exact != patches[shas["bin-b"]].exact


def test_facts_agree_with_git_cherry_and_search_only_its_range(tmp_path):
    repo = init_repo(tmp_path / "r")
    base = _write(repo, "app/x.py", LINES, "base")
    fix = _write(repo, "app/x.py", _edit(LINES, 5, "line 5 fixed\n"), "fix")
    for name in ("copy", "none"):
        git(repo, "checkout", "-q", "-b", name, base)
        _write(repo, "app/y.py", ["unrelated\n"], f"unrelated on {name}")
    git(repo, "checkout", "-q", "copy")
    git(repo, "cherry-pick", fix)
    copy = git(repo, "rev-parse", "HEAD")
    asked = patchids.read_changes(repo, base, fix)
    assert [c.sha for c in asked.changes] == [fix]
    for branch, expected in (("copy", "-"), ("none", "+")):
        mark = git(repo, "cherry", branch, fix, base).split()[0]
        assert mark == expected
        facts = patchids.facts(repo, f"refs/heads/{branch}", fix, asked)
        v = judge(asked.changes[0], facts)
        assert v.contained == (mark == "-"), branch
    facts = patchids.facts(repo, "refs/heads/copy", fix, asked)
    assert judge(asked.changes[0], facts).text == f"same patch as {copy[:10]}"
    # the fix itself, reached by ancestry, is not searched as a copy of itself
    assert fix not in facts.exact.values() and base not in facts.exact.values()


def test_a_trailer_naming_a_commit_this_clone_never_had_is_still_read(tmp_path):
    repo = init_repo(tmp_path / "r")
    base = _write(repo, "app/x.py", LINES, "base")
    gone = "f" * 40  # picked in another fork; no such object here
    git(repo, "checkout", "-q", "-b", "hotfix", base)
    lines = _edit(LINES, 5, "line 5 fixed\n")
    (repo / "app/x.py").write_text("".join(lines))
    git(repo, "commit", "-q", "-am", f"fix\n\n(cherry picked from commit {gone})")
    hotfix = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "release", base)
    (repo / "app/x.py").write_text("".join(_edit(lines, 20, "line 20 too\n")))
    git(repo, "commit", "-q", "-am", f"fix, edited\n\n(cherry picked from commit {gone})")
    release = git(repo, "rev-parse", "HEAD")
    asked = patchids.read_changes(repo, base, hotfix)
    assert asked.changes[0].sources == (gone,) and gone not in asked.known
    v = judge(asked.changes[0], patchids.facts(repo, "refs/heads/release", hotfix, asked))
    assert (v.state, v.commits) == ("probably", (release,))


def test_the_users_diff_settings_do_not_change_the_answer(tmp_path):
    repo = init_repo(tmp_path / "r")
    base = _write(repo, "app/x.py", LINES, "base")
    fix = _write(repo, "app/x.py", _edit(LINES, 5, "line 5 fixed\n"), "fix")
    git(repo, "checkout", "-q", "-b", "copy", base)
    _write(repo, "app/y.py", ["unrelated\n"], "unrelated")
    git(repo, "cherry-pick", fix)
    plain = patchids.read_changes(repo, base, fix).changes[0].patch
    for key, value in (("diff.noprefix", "true"), ("diff.mnemonicPrefix", "true"),
                       ("diff.algorithm", "histogram"), ("color.ui", "always")):
        git(repo, "config", key, value)
    asked = patchids.read_changes(repo, base, fix)
    assert asked.changes[0].patch == plain and plain.paths == ("app/x.py",)
    v = judge(asked.changes[0], patchids.facts(repo, "refs/heads/copy", fix, asked))
    assert v.evidence == "patch_id"
