"""What git shows about whether a branch carries some commits: ancestry, `cherry-pick -x`
trailers and patch-ids. core.backport decides from these facts; this module only reads git.

The cost per branch is bounded by the range `git cherry` itself walks (the commits the
branch has and the asking side lacks), in at most four commands whatever the divergence:
`rev-list` for ancestry; `log --grep` with the asked-about commit ids as fixed strings for
trailers; for patch-ids, `log --name-only` limited to the paths the asked-about commits
touch, then `log -p` of only the commits that change exactly the same files (unrelated
commits are walked, never diffed). Git runs through gitops.run_git.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .core.backport import Carrier, Change, Facts, Patch, patch_of, picked_from
from .gitops import run_git

_FORMAT = "--format=%x00%H%x00%P%x00%B%x00"
# A merge that brought in more commits than this (a release branch merged back, say) is
# judged by ancestry and patch only: naming each of its commits is not a backport.
MAX_MEMBERS = 50


@dataclass(frozen=True)
class Asked:
    """The commits asked about, and which of the ids they name this repository has."""

    changes: tuple[Change, ...]
    known: frozenset[str]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for c in self.changes for n in c.names()))

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for c in self.changes for p in c.patch.paths))


def _log(cwd: str | Path, *args: str, env: dict[str, str] | None = None
         ) -> list[tuple[str, tuple[str, ...], str, str]]:
    """(sha, parents, message, diff) for each commit `git log -p args` lists."""
    # The same diff whatever the user's git config (diff.noprefix, diff.algorithm, …).
    res = run_git(cwd, "-c", "core.quotePath=false", "log", "-p", "--full-index",
                  "--no-renames", "--no-color", "--no-ext-diff", "--no-textconv",
                  "--src-prefix=a/", "--dst-prefix=b/", "--diff-algorithm=myers", _FORMAT,
                  *args, strip=False, env=env)
    parts = res.out.split("\0")
    out = []
    for i in range(1, len(parts) - 3, 4):
        sha, parents, body, diff = parts[i:i + 4]
        out.append((sha.strip(), tuple(parents.split()), body, diff))
    return out


def read_changes(cwd: str | Path, base: str, head: str, limit: int | None = None) -> Asked:
    """The commits in base..head (the newest `limit` of them), oldest first."""
    args = ["--reverse"] + ([f"-n{int(limit)}"] if limit else [])
    return _asked(cwd, _log(cwd, *args, "--end-of-options", f"{base}..{head}", "--"))


def read_commits(cwd: str | Path, shas: Sequence[str]) -> Asked:
    """The given commits (full ids), in the order given."""
    if not shas:
        return Asked((), frozenset())
    return _asked(cwd, _log(cwd, "--no-walk=unsorted", "--end-of-options", *shas, "--"))


def _asked(cwd: str | Path, rows) -> Asked:
    drafts = [(sha, body, patch_of(diff)) for sha, _, body, diff in rows]
    sources = {s for _, body, _ in drafts for s in picked_from(body)}
    parents = _existing(cwd, [*(sha for sha, _, _ in drafts), *sources])
    changes = []
    for sha, body, patch in drafts:
        srcs = picked_from(body)
        members = {}
        for s in srcs:
            if len(parents.get(s, ())) > 1:
                ms = _merge_members(cwd, s, parents[s], patch.paths)
                if ms:
                    members[s] = ms
        subject = body.strip().splitlines()[0] if body.strip() else ""
        changes.append(Change(sha, subject, patch, srcs, members))
    member_ids = [m for c in changes for ms in c.members.values() for m in ms]
    known = set(parents) | set(member_ids)  # members were listed by rev-list: they exist
    return Asked(tuple(changes), frozenset(known))


def _existing(cwd: str | Path, shas: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """commit → parents, for the ids among `shas` that name commits here. A trailer may
    name a commit this clone never had (another fork, rewritten history)."""
    shas = list(dict.fromkeys(shas))
    if not shas:
        return {}
    res = run_git(cwd, "rev-list", "--no-walk=unsorted", "--parents", "--ignore-missing",
                  "--end-of-options", *shas, check=False)
    if not res.ok:  # an id that names something other than a commit: ask one by one
        found = {}
        for s in shas:
            one = run_git(cwd, "rev-list", "--no-walk", "--parents", "--ignore-missing",
                          "--end-of-options", s, check=False)
            if one.ok and one.out.strip():
                first, *rest = one.out.split()
                found[first] = tuple(rest)
        return found
    out = {}
    for line in res.out.splitlines():
        first, *rest = line.split()
        out[first] = tuple(rest)
    return out


def _merge_members(cwd: str | Path, merge: str, parents: tuple[str, ...],
                   paths: tuple[str, ...]) -> tuple[str, ...]:
    """The commits `merge` brought in, seen from the mainline the pick used: the parent
    whose diff to the merge touches the files the pick touched (else the first)."""
    mainline = parents[0]
    if paths:
        for p in parents:
            res = run_git(cwd, "diff", "--name-only", "--no-renames", p, merge, check=False)
            if res.ok and set(res.out.split("\n")) - {""} == set(paths):
                mainline = p
                break
    res = run_git(cwd, "rev-list", "--no-merges", "--reverse", f"--max-count={MAX_MEMBERS + 1}",
                  merge, f"^{mainline}", check=False)
    members = tuple(ln for ln in res.out.splitlines() if ln) if res.ok else ()
    return members if len(members) <= MAX_MEMBERS else ()


# A commit's patch never changes (its id is a hash of its content), so each is computed
# once per process: the branches of one `missing` share most of their history, and the
# console asks again and again.
_PATCHES: dict[str, Patch] = {}
_MAX_CACHED = 50_000


def _same_files(cwd: str | Path, target: str, head: str, asked: Asked
                ) -> list[tuple[str, Patch]]:
    """The commits on target (not on head) that change exactly the files one asked-about
    commit changes, with their patches: the only ones that can have its patch-id. Like
    `git cherry`, the range is walked without diffs; only these few are diffed."""
    paths = [p for p in asked.paths if p]
    if not paths:
        return []
    wanted = {frozenset(c.patch.paths) for c in asked.changes if c.patch.paths}
    res = run_git(cwd, "-c", "core.quotePath=false", "log", "--no-merges", "--full-diff",
                  "--name-only", "--no-renames", "--format=%x00%H", "--end-of-options",
                  f"^{head}", target, "--", *paths, strip=False,
                  env={"GIT_LITERAL_PATHSPECS": "1"})
    candidates = []
    for chunk in res.out.split("\0")[1:]:
        sha, *names = [ln for ln in chunk.split("\n") if ln]
        if frozenset(names) in wanted:
            candidates.append(sha)
    _cache_patches(cwd, [c for c in candidates if c not in _PATCHES])
    return [(c, _PATCHES[c]) for c in candidates if c in _PATCHES]


def _cache_patches(cwd: str | Path, todo: list[str]) -> None:
    """Diff the commits in `todo` (only these) and keep their patches."""
    if not todo:
        return
    if len(_PATCHES) + len(todo) > _MAX_CACHED:
        _PATCHES.clear()
    for sha, _, _, diff in _log(cwd, "--no-walk=unsorted", "--end-of-options", *todo, "--"):
        _PATCHES[sha] = patch_of(diff)


def facts(cwd: str | Path, target: str, head: str, asked: Asked) -> Facts:
    """What `target` (a full ref or commit id) shows about the asked-about commits; `head`
    is the asking side: only commits on target that head lacks are searched, the range
    `git cherry target head` compares."""
    if not asked.changes:
        return Facts()
    known = sorted(asked.known)
    reachable: set[str] = set()
    if known:
        res = run_git(cwd, "rev-list", "--end-of-options", *known, f"^{target}")
        outside = set(res.out.split())
        reachable = {k for k in known if k not in outside}
    carriers = []
    names = asked.names
    greps = [f"--grep={n}" for n in names]
    for sha, _, body, diff in _log(cwd, "-F", *greps, "--end-of-options", f"^{head}",
                                   target, "--"):
        named = frozenset(picked_from(body)) & set(names)
        if named:
            carriers.append(Carrier(sha, named, patch_of(diff)))
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}
    for sha, p in reversed(_same_files(cwd, target, head, asked)):  # oldest first
        if p.exact:
            exact.setdefault(p.exact, sha)
        if p.loose:
            loose.setdefault(p.loose, sha)
    return Facts(frozenset(reachable), tuple(reversed(carriers)), exact, loose)
