"""`git cherry-pick -x` in a hotfix or forward-port worktree, through gitops.run_git.

A pick that comes out empty (git: "The previous cherry-pick is now empty") is not a
conflict: the change is there already, so it is skipped (`cherry-pick --skip`) and named
(PickResult.empty), and the rest of the picks go on. On a real conflict the worktree is
put back exactly as it was, unless the caller keeps the conflict to be resolved by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .core.errors import GitError
from .gitops import GitResult, dirty_files, run_git, worktree_head


def parents(cwd: str | Path, sha: str) -> list[str]:
    out = run_git(cwd, "rev-list", "--parents", "-n", "1", sha).out.split()
    return out[1:]


def in_progress_pick(wt: str | Path) -> bool:
    return run_git(wt, "rev-parse", "--verify", "--quiet", "CHERRY_PICK_HEAD", check=False).ok


def conflicted_files(wt: str | Path) -> list[str]:
    res = run_git(wt, "diff", "--name-only", "--diff-filter=U", "-z", strip=False, check=False)
    return sorted({p for p in res.out.split("\0") if p})


@dataclass(frozen=True)
class PickResult:
    """What one `git cherry-pick` did: the new head, or the files in conflict."""

    ok: bool
    head: str
    conflicts: tuple[str, ...] = ()
    message: str = ""
    # Commits whose pick came out empty (the change is there already): skipped, in order.
    empty: tuple[str, ...] = ()


def _first_line(res: GitResult) -> str:
    return next((ln for ln in (res.err + "\n" + res.out).splitlines() if ln.strip()),
                f"exit {res.status}")


def _pick_head(wt: str | Path) -> str | None:
    res = run_git(wt, "rev-parse", "--verify", "--quiet", "CHERRY_PICK_HEAD", check=False)
    return res.out.strip() if res.ok and res.out.strip() else None


def _settle(wt: str | Path, res: GitResult, before: str, keep_conflict: bool,
            empty: tuple[str, ...] = ()) -> PickResult:
    """After a cherry-pick command: skip every pick that stopped only because it came out
    empty (git's "The previous cherry-pick is now empty"), which is not a conflict; on a
    real stop keep it in progress (keep_conflict) or put everything back to `before`."""
    skipped = list(empty)
    while not res.ok:
        stopped = _pick_head(wt)
        if stopped is None or conflicted_files(wt) or staged_changes(wt):
            break
        skipped.append(stopped)
        res = run_git(wt, "cherry-pick", "--skip", check=False)
    if res.ok:
        return PickResult(True, worktree_head(wt), empty=tuple(skipped))
    conflicts = tuple(conflicted_files(wt))
    message = _first_line(res)
    if keep_conflict:
        return PickResult(False, worktree_head(wt), conflicts, message, tuple(skipped))
    if in_progress_pick(wt) or run_git(wt, "rev-parse", "--verify", "--quiet",
                                        "REVERT_HEAD", check=False).ok:
        run_git(wt, "cherry-pick", "--abort", check=False)
    if worktree_head(wt) != before:
        run_git(wt, "reset", "--hard", "--quiet", before)
    if dirty_files(wt):
        run_git(wt, "reset", "--hard", "--quiet", before)
        run_git(wt, "clean", "-fdq")
    return PickResult(False, worktree_head(wt), conflicts, message)


def cherry_pick(wt: str | Path, shas: list[str], mainline: int | None = None,
                keep_conflict: bool = False, before: str | None = None) -> PickResult:
    """`cherry-pick -x` the commits, in order; a pick that comes out empty is skipped and
    named (PickResult.empty). On conflict, abort back to exactly the state before (HEAD,
    index, files) unless keep_conflict. `before`: HEAD now, if the caller read it."""
    before = before or worktree_head(wt)
    args = ["cherry-pick", "-x", "--allow-empty"]
    if mainline is not None:
        args += ["-m", str(int(mainline))]
    return _settle(wt, run_git(wt, *args, *shas, check=False), before, keep_conflict)


def pick_continue(wt: str | Path) -> PickResult:
    """Commit a resolved cherry-pick and go on with the rest; a resolution that leaves
    nothing to commit is skipped as empty (the change is there already)."""
    stopped = _pick_head(wt)
    if stopped is None:
        raise GitError("no cherry-pick in progress")
    left = conflicted_files(wt)
    if left:
        raise GitError("unresolved conflicts remain: " + ", ".join(left))
    head = worktree_head(wt)
    if not staged_changes(wt):
        return _settle(wt, run_git(wt, "cherry-pick", "--skip", check=False), head, True,
                       (stopped,))
    res = run_git(wt, "-c", "core.editor=true", "cherry-pick", "--continue", check=False)
    return _settle(wt, res, head, True)


def pick_skip(wt: str | Path) -> tuple[str, PickResult]:
    """Drop the commit whose pick stopped (`cherry-pick --skip`) and go on with the rest.
    Returns the dropped commit and how the rest went."""
    stopped = _pick_head(wt)
    if stopped is None:
        raise GitError("no cherry-pick in progress")
    head = worktree_head(wt)
    return stopped, _settle(wt, run_git(wt, "cherry-pick", "--skip", check=False), head, True)


def pick_abort(wt: str | Path) -> str:
    if not in_progress_pick(wt):
        raise GitError("no cherry-pick in progress")
    run_git(wt, "cherry-pick", "--abort")
    return worktree_head(wt)


# ---- the finish's forward-ports: one commit at a time, a conflict left to resolve ------

def pick_one(wt: str | Path, sha: str) -> PickResult:
    """`cherry-pick -x` one commit, leaving a conflict in place to be resolved. A pick
    that turns out empty (the change is already there) is skipped: message "empty"."""
    res = _settle(wt, run_git(wt, "cherry-pick", "-x", "--allow-empty", sha, check=False),
                  worktree_head(wt), True)
    return PickResult(True, res.head, message="empty", empty=res.empty) \
        if res.ok and res.empty else res


def staged_changes(wt: str | Path) -> bool:
    return not run_git(wt, "diff", "--cached", "--quiet", check=False).ok


def resume_pick(wt: str | Path) -> PickResult:
    """Commit a resolved cherry-pick (`cherry-pick --continue`); a resolution that leaves
    nothing to commit is skipped (message "empty")."""
    left = conflicted_files(wt)
    if left:
        return PickResult(False, worktree_head(wt), tuple(left), "unresolved conflicts remain")
    res = pick_continue(wt)
    return PickResult(True, res.head, message="empty", empty=res.empty) \
        if res.ok and res.empty else res


def clear_stale_lock(wt: Path) -> bool:
    """Remove the index.lock a killed git left in a worktree hotfix made for itself (a
    finish's forward-port); True if it did. While any git process may be working there
    (one in that worktree, or one whose working directory we may not read), the lock is
    left alone."""
    res = run_git(wt, "rev-parse", "--absolute-git-dir", check=False)
    lock = Path(res.out.strip()) / "index.lock"
    if not res.ok or not lock.exists():
        return False
    root = str(wt.resolve())
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if not (proc / "comm").read_text().startswith("git"):
                continue
            cwd = str((proc / "cwd").readlink())
        except FileNotFoundError:
            continue  # gone meanwhile
        except OSError:
            return False  # a git we may not look at: it might be working there
        if cwd == root or cwd.startswith(root + "/"):
            return False
    lock.unlink(missing_ok=True)
    return True
