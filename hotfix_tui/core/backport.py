"""Does a branch carry a change? The one rule, on plain values.

Evidence, strongest first, for a change C (a hotfix commit, or any commit asked about):

1. **ancestry**: the branch contains C itself, or a commit C was cherry-picked from (C's own
   `(cherry picked from commit O)` trailer; for a merge picked with `--mainline`, the merge);
2. **a cherry-pick**: a commit on the branch whose trailer names C, or names one of C's
   sources and has C's patch; for a merge source, trailers (or ancestry) covering every
   commit the merge brought in;
3. **the same patch**: a commit on the branch with C's patch-id (git's: whitespace and line
   numbers ignored, as `git cherry` compares), or with the same added and removed lines
   where only the surrounding context differs.

When only the source matches (a commit on the branch picks one of C's sources, but its
patch differs: a backport edited by hand) the answer is "probably", for a person to decide.
gitops-level code (hotfix_tui.patchids) gathers the facts; this module decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

CONTAINED, PROBABLY, MISSING, NOTHING = "contained", "probably", "missing", "nothing_to_check"
ANCESTRY, CHERRY_PICKED, PATCH_ID, SAME_SOURCE = (
    "ancestry", "cherry_picked", "patch_id", "same_source")
# Weakest last: a branch's verdict rests on the weakest evidence among its commits.
EVIDENCE_ORDER = (ANCESTRY, CHERRY_PICKED, PATCH_ID, SAME_SOURCE)

_PICKED_FROM = re.compile(r"^\s*\(cherry picked from commit ([0-9a-f]{40})\)\s*$", re.M)


def picked_from(message: str) -> tuple[str, ...]:
    """The commits a message's `cherry-pick -x` trailers name, in order, once each. A pick
    of a pick carries both lines, so the original source is among them."""
    return tuple(dict.fromkeys(_PICKED_FROM.findall(message or "")))


def short(sha: str) -> str:
    return sha[:10]


# ---- patch-ids -----------------------------------------------------------------------

@dataclass(frozen=True)
class Patch:
    """Two fingerprints of a commit's diff (None: no diff, e.g. an empty commit or a merge).

    exact: every file header and hunk line with whitespace removed and line numbers left
    out (what `git patch-id --stable` and `git cherry` hash); loose: only the added and
    removed lines and the file names, so a copy whose surroundings changed still matches."""

    exact: str | None = None
    loose: str | None = None
    paths: tuple[str, ...] = ()


def _digest(parts: Iterable[str]) -> str:
    import hashlib  # patch ids are hashed only by `missing` and empty picks

    h = hashlib.sha1(usedforsecurity=False)
    for p in parts:
        h.update(p.encode("utf-8", "surrogateescape"))
        h.update(b"\n")
    return h.hexdigest()


def _squeeze(line: str) -> str:
    return "".join(line.split())


class _FileDiff:
    """One file's part of a diff, as the lines its two fingerprints are made of."""

    def __init__(self, header: str) -> None:
        self.exact = [_squeeze(header)]
        self.loose: list[str] = []
        self.path = _path_of(header)
        self.in_hunk = False
        self.binary_index = ""

    def feed(self, line: str) -> None:
        if line.startswith("@@"):
            self.in_hunk = True
        elif not self.in_hunk:
            self._header(line)
        elif line[:1] and line[:1] in "+-":
            self.exact.append(line[0] + _squeeze(line[1:]))
            self.loose.append(line[0] + _squeeze(line[1:]))
        elif line[:1] == " ":
            self.exact.append(_squeeze(line))
        # "\ No newline at end of file" counts for neither

    def _header(self, line: str) -> None:
        if line.startswith("index "):
            self.binary_index = _squeeze(line)
        elif line.startswith(("Binary files ", "GIT binary patch")):
            self.exact.append(self.binary_index)  # a binary change is its blob ids
            self.loose.append(self.binary_index)
        else:
            self.exact.append(_squeeze(line))


def patch_of(diff: str) -> Patch:
    """Fingerprints of the text `git log -p --full-index --no-renames` prints for one
    commit (its diff part only). Files are hashed separately and combined in sorted order,
    so the order git lists them in does not matter."""
    files: list[_FileDiff] = []
    # git ends lines with \n only: splitlines() would also split inside a line at \x85,
    # U+2028 and the like, which a changed file may hold
    for line in diff.split("\n"):
        if line.startswith("diff --git "):
            files.append(_FileDiff(line))
        elif files:  # text before the first file is not part of a diff
            files[-1].feed(line)
    if not files:
        return Patch()
    exact_ids = sorted(_digest(f.exact) for f in files)
    loose_ids = sorted(_digest([f.path, *f.loose]) for f in files)
    return Patch(_digest(exact_ids), _digest(loose_ids),
                 tuple(sorted({f.path for f in files if f.path})))


def _path_of(header: str) -> str:
    """The path of `diff --git a/P b/P` (same path on both sides, as with --no-renames)."""
    rest = header[len("diff --git "):]
    if rest.startswith('"'):
        return ""  # quoted (unusual characters): the path-limited search skips it
    half = (len(rest) - 1) // 2
    a, b = rest[:half], rest[half + 1:]
    if a.startswith("a/") and b.startswith("b/") and a[2:] == b[2:]:
        return a[2:]
    return ""


# ---- what is asked about, what the branch shows, and the verdict -----------------------

@dataclass(frozen=True)
class Change:
    """A commit whose presence on a branch is asked about."""

    sha: str
    subject: str
    patch: Patch = field(default_factory=Patch)
    sources: tuple[str, ...] = ()  # what its own -x trailers name
    # For a source that is a merge: the commits that merge brought in (the pick's side).
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def names(self) -> tuple[str, ...]:
        """Every commit id a trailer on the branch could name for this change."""
        out = [self.sha, *self.sources]
        for ms in self.members.values():
            out.extend(ms)
        return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class Carrier:
    """A commit on the branch whose trailers name one of the asked-about commits."""

    sha: str
    names: frozenset[str]
    patch: Patch = field(default_factory=Patch)


@dataclass(frozen=True)
class Facts:
    """What git showed about one branch (commits on it that the asking side lacks)."""

    reachable: frozenset[str] = frozenset()  # asked-about commits the branch contains
    carriers: tuple[Carrier, ...] = ()
    exact: Mapping[str, str] = field(default_factory=dict)  # patch-id → commit on the branch
    loose: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """Whether a branch has a commit's change, and the evidence for the answer."""

    state: str  # contained | probably | missing
    evidence: str | None  # ancestry | cherry_picked | patch_id | same_source | None
    commits: tuple[str, ...] = ()  # what matched: on the branch, or the ancestor found there
    text: str = ""

    @property
    def contained(self) -> bool:
        return self.state == CONTAINED


def judge(change: Change, facts: Facts) -> Verdict:
    """Whether the branch described by `facts` carries `change`, and by what evidence:
    the first rule that answers, strongest evidence first."""
    for rule in (_by_ancestry, _by_trailer, _by_merge, _by_patch_id, _by_source,
                 _by_part_of_merge):
        verdict = rule(change, facts)
        if verdict is not None:
            return verdict
    return Verdict(MISSING, None, (), "missing")


def _by_ancestry(change: Change, facts: Facts) -> Verdict | None:
    if change.sha in facts.reachable:
        return Verdict(CONTAINED, ANCESTRY, (change.sha,), "by ancestry")
    for src in change.sources:
        if src in facts.reachable:
            return Verdict(CONTAINED, ANCESTRY, (src,), f"by ancestry of {short(src)}")
    return None


def _by_trailer(change: Change, facts: Facts) -> Verdict | None:
    same_patch = _same_patch(change.patch)
    for c in facts.carriers:
        if change.sha in c.names or (c.names & set(change.sources) and same_patch(c.patch)):
            return Verdict(CONTAINED, CHERRY_PICKED, (c.sha,), f"cherry-picked as {short(c.sha)}")
    return None


def _merge_hits(change: Change, facts: Facts):
    """(merge, the members found on the branch, all of them?) for each merge it carries."""
    for merge, members in change.members.items():
        found = [_member_on_branch(m, facts) for m in members]
        hits = tuple(dict.fromkeys(h for h in found if h))
        yield merge, hits, bool(members) and all(found), sum(1 for h in found if h)


def _by_merge(change: Change, facts: Facts) -> Verdict | None:
    for merge, hits, complete, _ in _merge_hits(change, facts):
        if not complete:
            continue
        if set(hits) <= facts.reachable:
            return Verdict(CONTAINED, ANCESTRY, hits, f"by ancestry of the commits of "
                           f"merge {short(merge)}")
        return Verdict(CONTAINED, CHERRY_PICKED, hits,
                       "cherry-picked as " + ", ".join(short(h) for h in hits))
    return None


def _by_patch_id(change: Change, facts: Facts) -> Verdict | None:
    for key, ids, label in ((change.patch.exact, facts.exact, ""),
                            (change.patch.loose, facts.loose, " (context differs)")):
        if key and key in ids:
            return Verdict(CONTAINED, PATCH_ID, (ids[key],),
                           f"same patch as {short(ids[key])}{label}")
    return None


def _by_source(change: Change, facts: Facts) -> Verdict | None:
    sourced = [c for c in facts.carriers if c.names & set(change.sources)]
    if not sourced:
        return None
    c = sourced[0]
    src = next(s for s in change.sources if s in c.names)
    return Verdict(PROBABLY, SAME_SOURCE, (c.sha,),
                   f"probably: same source, different patch ({short(c.sha)} also picks "
                   f"{short(src)})")


def _by_part_of_merge(change: Change, facts: Facts) -> Verdict | None:
    for merge, hits, _, n in _merge_hits(change, facts):
        if hits:
            return Verdict(PROBABLY, SAME_SOURCE, hits,
                           f"probably: {n} of {len(change.members[merge])} commits of merge "
                           f"{short(merge)} cherry-picked (" + ", ".join(short(h) for h in hits)
                           + ")")
    return None


def _same_patch(mine: Patch):
    def same(theirs: Patch) -> bool:
        return bool((mine.exact and mine.exact == theirs.exact)
                    or (mine.loose and mine.loose == theirs.loose))
    return same


def _member_on_branch(member: str, facts: Facts) -> str | None:
    if member in facts.reachable:
        return member
    return next((c.sha for c in facts.carriers if member in c.names), None)


def overall(verdicts: Iterable[Verdict]) -> str:
    """One state for a branch: missing if any commit is, probably if any is, else
    contained; nothing to check when there are no commits."""
    states = [v.state for v in verdicts]
    if not states:
        return NOTHING
    for state in (MISSING, PROBABLY):
        if state in states:
            return state
    return CONTAINED


def weakest(verdicts: Iterable[Verdict]) -> Verdict | None:
    """The verdict a branch's answer rests on: the first missing one, else the one with
    the weakest evidence."""
    vs = list(verdicts)
    if not vs:
        return None
    missing = [v for v in vs if v.state == MISSING]
    if missing:
        return missing[0]
    return max(vs, key=lambda v: EVIDENCE_ORDER.index(v.evidence or SAME_SOURCE))
