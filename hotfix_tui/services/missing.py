"""Does a branch have this fix? The one answer `missing`, `finish`, the export and the
console use: core.backport's rule (ancestry, then a `cherry-pick -x` trailer, then the
patch-id; "probably" when only the source matches) on the facts hotfix_tui.patchids reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import gitops, patchids
from ..core.backport import CONTAINED, MISSING, NOTHING, PROBABLY, Verdict, judge, overall, weakest
from ..core.errors import NotFound
from ..core.models import HotfixState
from ..core.refs import check_ref
from ..store import records
from .context import Context
from .finish_state import deployed_sha
from .hotfixes import git_cwd

_SHIPPED = (HotfixState.DEPLOYED, HotfixState.VERIFIED, HotfixState.FINISHED)


@dataclass(frozen=True)
class MissingCommit:
    """A hotfix commit a branch lacks."""

    sha: str
    subject: str

    def to_json(self) -> dict[str, str]:
        return {"sha": self.sha, "subject": self.subject}


@dataclass(frozen=True)
class CommitCheck:
    """One hotfix commit on one branch: whether the branch has it, and the evidence."""

    sha: str
    subject: str
    verdict: Verdict

    def to_json(self) -> dict[str, Any]:
        v = self.verdict
        return {"sha": self.sha, "subject": self.subject, "state": v.state,
                "evidence": v.evidence, "matches": list(v.commits), "text": v.text}


@dataclass(frozen=True)
class BranchMissing:
    """One branch: which of the hotfix's commits it has, and how we know."""

    branch: str
    checks: tuple[CommitCheck, ...]

    @property
    def state(self) -> str:
        """contained | probably | missing | nothing_to_check"""
        return overall(c.verdict for c in self.checks)

    @property
    def contained(self) -> bool | None:
        """True when the branch has every hotfix commit; None when there is nothing to
        check (a hotfix with no commits)."""
        return None if self.state == NOTHING else self.state == CONTAINED

    @property
    def missing(self) -> tuple[MissingCommit, ...]:
        return tuple(MissingCommit(c.sha, c.subject) for c in self.checks
                     if c.verdict.state == MISSING)

    @property
    def probable(self) -> tuple[CommitCheck, ...]:
        return tuple(c for c in self.checks if c.verdict.state == PROBABLY)

    @property
    def present(self) -> tuple[str, ...]:
        return tuple(c.sha for c in self.checks if c.verdict.contained)

    @property
    def deciding(self) -> Verdict | None:
        """The verdict the branch's answer rests on (the weakest evidence)."""
        return weakest(c.verdict for c in self.checks)

    @property
    def text(self) -> str:
        n = len(self.checks)
        if self.state == NOTHING:
            return "nothing to check: the hotfix has no commits"
        if self.state == MISSING:
            return f"missing {len(self.missing)} of {n} commit{'s' if n != 1 else ''}"
        if n == 1 or self.state == PROBABLY:
            return self.deciding.text if self.deciding else ""
        return "; ".join(dict.fromkeys(c.verdict.text for c in self.checks))

    def to_json(self) -> dict[str, Any]:
        d = self.deciding if self.state in (CONTAINED, PROBABLY) else None
        return {"branch": self.branch, "state": self.state, "contained": self.contained,
                "evidence": d.evidence if d else None,
                "commit": d.commits[0] if d and d.commits else None,
                "text": self.text,
                "missing": [m.to_json() for m in self.missing], "present": list(self.present),
                "commits": [c.to_json() for c in self.checks]}


@dataclass(frozen=True)
class MissingReport:
    """Which branches still miss a hotfix's commits."""

    hotfix: str
    sha: str
    commits: int
    branches: tuple[BranchMissing, ...]

    @property
    def anything_missing(self) -> bool:
        return any(b.state == MISSING for b in self.branches)

    @property
    def undecided(self) -> bool:
        return any(b.state == PROBABLY for b in self.branches)

    def to_json(self) -> dict[str, Any]:
        return {"hotfix": self.hotfix, "sha": self.sha, "commits": self.commits,
                "nothing_to_check": self.commits == 0, "missing": self.anything_missing,
                "probably": self.undecided, "branches": [b.to_json() for b in self.branches]}


def check_branches(cwd: Path, base: str, head: str, branches: Sequence[str]
                   ) -> tuple[BranchMissing, ...]:
    """For each branch: which commits of base..head it has, and by what evidence."""
    asked = patchids.read_changes(cwd, base, head)
    out = []
    for name in branches:
        facts = patchids.facts(cwd, f"refs/heads/{name}", head, asked)
        out.append(BranchMissing(name, tuple(CommitCheck(c.sha, c.subject, judge(c, facts))
                                             for c in asked.changes)))
    return tuple(out)


def missing(ctx: Context, key: str, branches: list[str] | tuple[str, ...] = ()) -> MissingReport:
    """For each forward-port branch (and each of `branches`): whether it has the fix.

    The fix is what was deployed once the hotfix shipped, else its branch tip."""
    cwd = git_cwd(ctx)
    names: list[str] = []
    for name in (*ctx.config.hotfix.forward_port, *branches):
        check_ref(name, "branch")
        if name not in names:
            names.append(name)
    with ctx.reading() as store:
        row = records.hotfix_row(store, key)
        if HotfixState(row["state"]) in _SHIPPED:
            sha = deployed_sha(store, row)
        else:
            sha = gitops.branch_tip(cwd, row["branch"]) or row["head_sha"]
    for name in names:
        if gitops.branch_tip(cwd, name) is None:
            raise NotFound(f"branch {name} does not exist")
    checked = check_branches(cwd, row["base_sha"], sha, names)
    commits = len(checked[0].checks) if checked else gitops.count_commits(
        cwd, row["base_sha"], sha)
    return MissingReport(row["key"], sha, commits, checked)


# ---- the console's commit list -----------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """A commit of the default branch offered for picking."""

    commit: gitops.CommitInfo
    carried: str = ""  # empty when the hotfix lacks it; else where and how it has it


@dataclass(frozen=True)
class PickList:
    """The commits a hotfix could pick from one branch."""

    branch: str
    commits: tuple[Candidate, ...]
    hidden: int  # commits the hotfix already has that the list leaves out
    everything: bool

    @property
    def lacking(self) -> int:
        return sum(1 for c in self.commits if not c.carried)


def pick_candidates(ctx: Context, key: str, everything: bool = False,
                    limit: int = 300) -> PickList:
    """The default branch's commits the hotfix lacks (like `git log HEAD..main`, less the
    ones it has as a cherry-pick or the same patch), newest first; with `everything`, the
    branch's whole recent history, each commit marked with how the hotfix has it."""
    cwd = git_cwd(ctx)
    with ctx.reading() as store:
        row = records.hotfix_row(store, key)
    branch = gitops.default_branch(cwd, ctx.config.hotfix.default_branch)
    tip = gitops.branch_tip(cwd, row["branch"]) or row["head_sha"]
    main = gitops.resolve_commit(cwd, branch, "branch")
    lacking = gitops.log(cwd, f"{tip}..{main}", limit=limit)
    shown = gitops.log(cwd, main, limit=limit) if everything else lacking
    asked = patchids.read_commits(cwd, [c.sha for c in lacking])
    facts = patchids.facts(cwd, tip, main, asked)
    picked = set(gitops.rev_list(cwd, row["base_sha"], tip))
    how: dict[str, str] = {}
    for change in asked.changes:
        v = judge(change, facts)
        if v.contained:
            where = row["key"] if set(v.commits) <= picked else "the base"
            how[change.sha] = f"in {where}: {v.text}"
    lacking_ids = set(gitops.rev_list(cwd, tip, main)) if everything else {
        c.sha for c in lacking}
    out = []
    for c in shown:
        carried = how.get(c.sha, "") if c.sha in lacking_ids else "in the base"
        if everything or not carried:
            out.append(Candidate(c, carried))
    return PickList(branch, tuple(out), 0 if everything else len(how), everything)
