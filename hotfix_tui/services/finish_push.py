"""Undoing a finish that has not completed, and pushing a finished one."""

from __future__ import annotations

from pathlib import Path

from .. import gitops
from ..core.errors import GitError, HotfixError
from ..core.models import HotfixState
from ..store import records
from .context import Context
from .finish_state import (
    PORTED,
    AbortResult,
    FinishResult,
    finish_result,
    load_state,
    save_state,
)
from .hotfixes import git_cwd
from .usecase import change


def finish_abort(ctx: Context, key: str) -> AbortResult:
    """Undo a finish that has not completed: temp worktrees removed, branches moved back
    to where the finish found them, the tag removed if this finish created it."""
    cwd = git_cwd(ctx)
    with ctx.reading() as store:
        row = records.hotfix_row(store, key)
    key = row["key"]
    fs = load_state(row)
    if HotfixState(row["state"]) is HotfixState.FINISHED:
        raise HotfixError(f"{key} is already finished; a finished hotfix cannot be aborted")
    if fs is None:
        raise HotfixError(f"{key}: no finish in progress; nothing to abort")
    rewind = _rewinds(cwd, fs)
    removed = []
    for b in fs["branches"]:
        wt = b.get("worktree")
        if wt and b["status"] != PORTED and Path(wt).exists():
            gitops.remove_worktree(cwd, Path(wt))
            removed.append(wt)
    restored = _rewind(cwd, key, rewind)
    tag_removed = None
    if fs.get("tag_created") and fs.get("tag_object") and gitops.delete_tag(
            cwd, fs["tag"], fs["tag_object"]):
        tag_removed = fs["tag"]
    with change(ctx, hotfix=key) as c:
        row = c.row
        c.store.execute("UPDATE hotfixes SET finish_state = '', updated_at = ? WHERE id = ?",
                        (c.now, row["id"]))
        if fs.get("skip_verify"):
            c.store.execute("UPDATE hotfixes SET skip_verify_reason = '' WHERE id = ?",
                            (row["id"],))
        c.audit("finish.aborted", after={"restored": restored, "worktrees_removed": removed,
                                         "tag_removed": tag_removed})
    return AbortResult(key, row["state"], tuple(restored), tuple(removed), tag_removed)


def _rewinds(cwd: Path, fs: dict) -> list[tuple[str, str, str, Path | None]]:
    """(branch, where it was, where the finish put it, its clean checkout) of every
    branch an abort moves back; refuses when one moved on or is checked out dirty."""
    checkouts = gitops.branch_checkouts(cwd)
    rewind: list[tuple[str, str, str, Path | None]] = []
    for b in fs["branches"]:
        if b["status"] != PORTED:
            continue
        tip = gitops.branch_tip(cwd, b["branch"])
        if tip == b["onto"]:
            continue
        if tip != b["new"]:
            raise HotfixError(f"cannot abort: {b['branch']} moved on since the finish ported "
                              f"to it (now {str(tip)[:12]}); revert the forward-port by hand")
        w = checkouts.get(b["branch"])
        if w is not None and gitops.tracked_changes(w):
            raise HotfixError(f"cannot abort: {b['branch']} is checked out in {w} with "
                              "uncommitted changes; commit or stash them first")
        rewind.append((b["branch"], b["onto"], b["new"], w))
    return rewind


def _rewind(cwd: Path, key: str, rewind) -> list[str]:
    restored = []
    for name, onto, new, w in rewind:
        ok = (gitops.rewind_checkout(w, onto).ok if w is not None
              else gitops.update_branch(cwd, name, onto, new, f"hotfix finish {key} --abort"))
        if not ok:
            raise GitError(f"could not move {name} back to {onto[:12]}; the finish state is "
                           "kept: run --abort again")
        restored.append(name)
    return restored


def push_finished(ctx: Context, key: str) -> FinishResult:
    """Push the tag and the forward-port branches of a finished hotfix; a plain push
    (a non-fast-forward is refused), atomic: all refs or none."""
    cwd = git_cwd(ctx)
    with ctx.reading() as store:
        row = records.hotfix_row(store, key)
    fs = load_state(row)
    if fs is None or HotfixState(row["state"]) is not HotfixState.FINISHED:
        raise HotfixError(f"{row['key']} is not finished; nothing to push")
    remote = ctx.config.hotfix.remote
    refs = [f"refs/tags/{fs['tag']}"] + [f"refs/heads/{b['branch']}" for b in fs["branches"]]
    res = gitops.push(cwd, remote, [f"{r}:{r}" for r in refs])
    if not res.ok:
        reason = _push_refusal(res)
        save_state(ctx, row["key"], fs, "finish.push_refused", remote=remote, refs=refs,
                   reason=reason)
        raise GitError(f"push to {remote} refused: {reason}; nothing was pushed (bring the "
                       f"branch up to date, then 'hotfix finish {row['key']} --push')")
    save_state(ctx, row["key"], fs, "finish.pushed", remote=remote, refs=refs)
    return finish_result(row, fs, pushed=tuple(refs), remote=remote)


def _push_refusal(res: gitops.GitResult) -> str:
    rejected = []
    for line in res.out.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0] == "!" and "atomic push failed" not in parts[2]:
            ref = parts[1].split(":")[-1].removeprefix("refs/heads/").removeprefix("refs/tags/")
            rejected.append(f"{ref} {parts[2].strip()}")
    if rejected:
        return ", ".join(rejected)
    first = next((ln for ln in res.err.splitlines() if ln.strip()), f"exit {res.status}")
    return first.removeprefix("fatal: ").removeprefix("error: ")
