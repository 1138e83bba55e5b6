"""Which hotfix commits a branch already carries, judged by patch-id.

A commit counts as carried when the branch reaches it, when a commit on the branch
has the same patch-id (`git cherry`), the same patch-id computed without context
lines (a copy whose surroundings changed on the branch), or a `cherry picked from
commit` line naming it (`cherry-pick -x`). Git runs through gitops.run_git.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .gitops import rev_list, run_git

_PICKED_FROM = re.compile(r"\(cherry picked from commit ([0-9a-f]{40})\)")


def cherry(cwd: str | Path, upstream: str, head: str, base: str) -> dict[str, bool]:
    """For each commit in base..head, oldest first: does `upstream` carry it already?"""
    commits = rev_list(cwd, base, head)
    if not commits:
        return {}
    absent = set(rev_list(cwd, upstream, head))
    marks = {}
    for line in run_git(cwd, "cherry", upstream, head, base).out.splitlines():
        mark, _, sha = line.partition(" ")
        marks[sha.strip()] = mark
    present = {c: c not in absent or marks.get(c) == "-" for c in commits}
    left = [c for c in commits if not present[c]]
    if left:
        theirs = _patches(cwd, "--end-of-options", f"{head}..{upstream}")
        ids = {pid for _, pid, _ in theirs if pid}
        picked = {src for _, _, sources in theirs for src in sources}
        for sha, pid, _ in _patches(cwd, "--no-walk=unsorted", "--end-of-options", *left):
            present[sha] = sha in picked or (pid is not None and pid in ids)
    return present


def _patches(cwd: str | Path, *revs: str) -> list[tuple[str, str | None, set[str]]]:
    """(sha, patch-id without context lines, commits it was cherry-picked from) for the
    commits `revs` name (merges left out)."""
    res = run_git(cwd, "log", "-p", "-U0", "--no-merges", "--no-color", "--no-ext-diff",
                  "--no-renames", "--format=%x00%H%x00%B%x00", *revs, "--")
    parts = res.out.split("\0")
    out = []
    for i in range(1, len(parts) - 2, 3):
        sha, body, diff = parts[i], parts[i + 1], parts[i + 2]
        changed = ["".join(ln.split()) for ln in diff.splitlines()
                   if ln[:1] in "+-" and ln.strip() not in ("+", "-")]
        pid = hashlib.sha1("\n".join(changed).encode("utf-8", "surrogateescape"),
                           usedforsecurity=False).hexdigest() if changed else None
        out.append((sha.strip(), pid, set(_PICKED_FROM.findall(body))))
    return out
