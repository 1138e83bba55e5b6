"""The saved state of a finish (`hotfixes.finish_state`, JSON) and what it reports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import HotfixError
from ..core.models import HotfixState
from ..store.db import Store
from .context import Context
from .usecase import change

PORTED, PRESENT, CONFLICT, BLOCKED, PENDING = (
    "ported", "already_present", "conflict", "blocked", "pending")
# The branch probably has the fix (a commit there picks the same source with a different
# patch): the finish waits for a person to say --present BRANCH or --port BRANCH.
UNDECIDED = "undecided"
DONE = (PORTED, PRESENT)
# Internal steps between pending and done: picking onto the temp worktree, then moving
# the branch ("ready").
PICKING, READY = "picking", "ready"


@dataclass(frozen=True)
class BranchResult:
    """What finishing did on one forward-port branch."""

    branch: str
    status: str  # ported | already_present | conflict | blocked | undecided | pending
    commits: tuple[str, ...]  # hotfix commits applied (ported) or found there already
    files: tuple[str, ...] = ()  # conflicted files, or the checkout's uncommitted ones
    worktree: str | None = None  # where to resolve a conflict
    message: str = ""
    # How the branch has each hotfix commit it was not given: {sha, evidence, text}.
    evidence: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"branch": self.branch, "status": self.status, "commits": list(self.commits),
                "files": list(self.files), "worktree": self.worktree,
                "message": self.message or None, "evidence": list(self.evidence)}


@dataclass(frozen=True)
class FinishResult:
    """What finishing a hotfix did: its tag and each branch's forward-port."""

    hotfix: str
    tag: str
    sha: str
    state: str
    branches: tuple[BranchResult, ...]
    pushed: tuple[str, ...] = ()
    remote: str = ""

    @property
    def finished(self) -> bool:
        return self.state == str(HotfixState.FINISHED)

    @property
    def stopped(self) -> tuple[BranchResult, ...]:
        return tuple(b for b in self.branches if b.status not in DONE)

    def stop_message(self) -> str:
        """One line naming every branch that stopped the finish, and what to do."""
        parts = []
        undecided = []
        for b in self.stopped:
            if b.status == CONFLICT and b.files:
                parts.append(f"forward-port to {b.branch} stopped on a conflict in "
                             f"{', '.join(b.files)}; resolve it in {b.worktree} "
                             f"(git add the files)")
            elif b.status == UNDECIDED:
                parts.append(f"{b.branch} {b.message}; check it by hand")
                undecided.append(b.branch)
            elif b.status == CONFLICT:
                parts.append(f"forward-port to {b.branch} stopped: "
                             f"{b.message or 'the cherry-pick did not complete'}; see "
                             f"{b.worktree} (git status)")
            else:
                parts.append(f"forward-port to {b.branch} waits: {b.message}")
        run = f"hotfix finish {self.hotfix} --continue"
        if undecided:
            present = " ".join(f"--present {n}" for n in undecided)
            port = " ".join(f"--port {n}" for n in undecided)
            then = (f"then run '{run} {present}' if it has the fix, or '{run} {port}' to "
                    "forward-port anyway")
        else:
            then = f"then run '{run}'"
        return f"{self.hotfix}: " + "; ".join(parts) + f"; {then} (or --abort)"

    def to_json(self) -> dict[str, Any]:
        return {"hotfix": self.hotfix, "tag": self.tag, "sha": self.sha,
                "branches": [b.to_json() for b in self.branches], "state": self.state,
                "pushed": list(self.pushed), "remote": self.remote or None}


@dataclass(frozen=True)
class AbortResult:
    """What aborting a finish undid."""

    hotfix: str
    state: str
    restored: tuple[str, ...]  # branches moved back to where they were
    worktrees_removed: tuple[str, ...]
    tag_removed: str | None

    def to_json(self) -> dict[str, Any]:
        return {"hotfix": self.hotfix, "state": self.state, "restored": list(self.restored),
                "worktrees_removed": list(self.worktrees_removed),
                "tag_removed": self.tag_removed}


# ---- reading the saved state ---------------------------------------------------------

def load_state(row) -> dict | None:
    text = row["finish_state"] or ""
    if not text:
        return None
    try:
        fs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HotfixError(f"{row['key']}: its saved finish state (hotfixes.finish_state) "
                          "is unreadable") from exc
    return fs if isinstance(fs, dict) else None


def deployed_sha(store: Store, row, env: str | None = None) -> str:
    """The commit the hotfix last deployed successfully (to `env`, if given; else its
    head)."""
    return production_sha(store, row, env) or row["head_sha"]


def production_sha(store: Store, row, env: str | None) -> str | None:
    """The commit the hotfix last deployed successfully to `env` (any environment when
    None), or None if it never got there."""
    sql = ("SELECT sha FROM deploys WHERE hotfix_id = ? AND kind = 'deploy' AND "
           "status = 'succeeded'")
    params: tuple = (row["id"],)
    if env is not None:
        sql += " AND env = ?"
        params += (env,)
    return store.scalar(sql + " ORDER BY id DESC LIMIT 1", params)


def finish_dir(ctx: Context) -> Path:
    return ctx.require_repo().common_dir / "hotfix" / "finish"


def public_status(status: str) -> str:
    """ported | already_present | conflict | blocked | undecided | pending (the steps in
    between)."""
    return status if status in (*DONE, CONFLICT, BLOCKED, UNDECIDED) else PENDING


def branch_result(b: dict) -> BranchResult:
    status = public_status(b["status"])
    if status == PORTED:
        commits = b.get("picked") or []
    elif status == PRESENT:
        commits = b.get("present") or []
    else:
        commits = b.get("remaining") or []
    return BranchResult(b["branch"], status, tuple(commits), tuple(b.get("files") or ()),
                        b.get("worktree") if status in (CONFLICT, BLOCKED) else None,
                        b.get("message") or "", tuple(b.get("evidence") or ()))


def finish_result(row, fs: dict, state: str | None = None, pushed: tuple[str, ...] = (),
                  remote: str = "") -> FinishResult:
    return FinishResult(row["key"], fs["tag"], fs["sha"], state or row["state"],
                        tuple(branch_result(b) for b in fs["branches"]), pushed, remote)


def save_state(ctx: Context, key: str, fs: dict, action: str | None = None,
               **after: Any) -> None:
    """Store the finish state, with the audit event of the step that changed it."""
    with change(ctx, hotfix=key) as c:
        c.store.execute("UPDATE hotfixes SET finish_state = ?, updated_at = ? WHERE id = ?",
                        (json.dumps(fs, sort_keys=True), c.now, c.row["id"]))
        if action:
            c.audit(action, after=after)
