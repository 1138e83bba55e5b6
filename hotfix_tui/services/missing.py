"""Which branches still lack a hotfix, judged by patch-id: a cherry-picked copy counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import gitops, patchids
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
    sha: str
    subject: str

    def to_json(self) -> dict[str, str]:
        return {"sha": self.sha, "subject": self.subject}


@dataclass(frozen=True)
class BranchMissing:
    branch: str
    missing: tuple[MissingCommit, ...]
    present: tuple[str, ...]  # hotfix commits the branch has (same commit or same patch)

    @property
    def contained(self) -> bool:
        return not self.missing

    def to_json(self) -> dict[str, Any]:
        return {"branch": self.branch, "contained": self.contained,
                "missing": [m.to_json() for m in self.missing], "present": list(self.present)}


@dataclass(frozen=True)
class MissingReport:
    hotfix: str
    sha: str
    commits: int
    branches: tuple[BranchMissing, ...]

    @property
    def anything_missing(self) -> bool:
        return any(not b.contained for b in self.branches)

    def to_json(self) -> dict[str, Any]:
        return {"hotfix": self.hotfix, "sha": self.sha, "commits": self.commits,
                "missing": self.anything_missing,
                "branches": [b.to_json() for b in self.branches]}


def missing(ctx: Context, key: str, branches: list[str] | tuple[str, ...] = ()) -> MissingReport:
    """For each forward-port branch (and each of `branches`): the hotfix commits it lacks.

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
    subjects = {c.sha: c.subject for c in gitops.log(cwd, f"{row['base_sha']}..{sha}")}
    out = []
    for name in names:
        present = patchids.cherry(cwd, f"refs/heads/{name}", sha, row["base_sha"])
        out.append(BranchMissing(
            name,
            tuple(MissingCommit(c, subjects.get(c, "")) for c, ok in present.items() if not ok),
            tuple(c for c, ok in present.items() if ok)))
    return MissingReport(row["key"], sha, len(subjects), tuple(out))
