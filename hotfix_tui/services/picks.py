"""Picking commits into a hotfix: `cherry-pick -x` in its worktree, all or nothing unless
--keep-conflict, with --continue, --skip and --abort. A pick that comes out empty is not a
conflict: the hotfix has that change already, and the record says so and how."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import cherrypick, gitops
from ..core.errors import GitError, HotfixError, ValidationError
from ..core.models import Hotfix
from .context import Context
from .hotfixes import _fresh, git_cwd, refresh_approvals, require_editable, require_worktree
from .usecase import Change, change, look


def _resolve_picks(cwd: Path, commits: list[str], mainline: int | None) -> list[str]:
    if not commits:
        raise ValidationError("give at least one commit to pick")
    shas = []
    known = gitops.commits_with_parents(cwd, commits)  # one git command for them all
    for c in commits:
        if known is None:  # one of them is unknown: say which
            sha = gitops.resolve_commit(cwd, c, "commit")
            n_parents = len(cherrypick.parents(cwd, sha))
        else:
            sha, parents = known[c]
            n_parents = len(parents)
        if n_parents > 1 and mainline is None:
            raise ValidationError(f"{c} is a merge commit; give --mainline N "
                                  "(1 = the branch it was merged into)")
        if n_parents <= 1 and mainline is not None:
            raise ValidationError(f"--mainline given but {c} is not a merge commit")
        if mainline is not None and not 1 <= mainline <= n_parents:
            raise ValidationError(f"--mainline {mainline}: {c} has {n_parents} parents")
        shas.append(sha)
    return shas


@dataclass(frozen=True)
class Picked:
    """What a pick did: the hotfix after it, the commits picked, and the ones skipped
    because their change is in the hotfix already (with how, where known)."""

    hotfix: Hotfix
    picked: tuple[str, ...] = ()
    already_there: tuple[tuple[str, str], ...] = ()  # (commit, how the hotfix has it)
    dropped: tuple[str, ...] = ()  # skipped by hand (--skip)

    def notes(self) -> list[str]:
        out = [f"{sha[:12]}: {how}; nothing to pick" for sha, how in self.already_there]
        out += [f"{sha[:12]} skipped" for sha in self.dropped]
        return out

    def to_json(self) -> dict:
        return {**self.hotfix.to_json(), "picked": list(self.picked),
                "already_there": [{"sha": s, "how": h} for s, h in self.already_there],
                "skipped": list(self.dropped)}


def _how_there(cwd: Path, row, head: str, shas: tuple[str, ...]
               ) -> tuple[tuple[str, str], ...]:
    """For commits whose pick came out empty: where the hotfix (its base, or its own
    earlier picks, at `head`) has them and how, by the rule `missing` uses."""
    if not shas:
        return ()
    from .. import patchids  # (only a pick that came out empty asks how)
    from ..core.backport import judge

    own = set(gitops.rev_list(cwd, row["base_sha"], head)) if shas else set()
    out = []
    for sha in shas:
        asked = patchids.read_commits(cwd, [sha])
        facts = patchids.facts(cwd, head, sha, asked)
        v = judge(asked.changes[0], facts) if asked.changes else None
        if v is None or not v.contained:
            out.append((sha, f"{row['key']} already has this change (the pick would be "
                             "empty)"))
            continue
        where = row["key"] if set(v.commits) & own else f"the base {row['base_ref']}"
        out.append((sha, f"{where} already has it: {v.text}"))
    return tuple(out)


def _pick_error(key: str, wt: Path, result: cherrypick.PickResult, kept: bool) -> GitError:
    if result.conflicts:
        what = f"cherry-pick conflicts in: {', '.join(result.conflicts)}"
    else:
        what = f"cherry-pick failed: {' '.join(result.message.split())}"
    if kept:
        return GitError(f"{what}; resolve them in {wt}, then 'hotfix pick {key} --continue' "
                        "(or --skip to drop this commit, --abort to give up)")
    return GitError(f"{what}; the worktree is back as it was (--keep-conflict to resolve "
                    "by hand)")


def pick(ctx: Context, key: str, commits: list[str], mainline: int | None = None,
         keep_conflict: bool = False) -> Picked:
    cwd = git_cwd(ctx)
    row = look(ctx, hotfix=key, check=require_editable)
    wt = require_worktree(row)
    if cherrypick.in_progress_pick(wt):
        raise HotfixError(f"{row['key']}: a cherry-pick is in progress in {wt}; resolve it "
                          f"and run 'hotfix pick {row['key']} --continue', or --skip, or "
                          "--abort")
    before, dirty = gitops.worktree_state(wt)
    if dirty:
        raise HotfixError(f"{row['key']}: the worktree has uncommitted changes: "
                          + ", ".join(dirty[:5]) + (" …" if len(dirty) > 5 else ""))
    shas = _resolve_picks(cwd, commits, mainline)
    result = cherrypick.cherry_pick(wt, shas, mainline, keep_conflict, before=before)
    there = _how_there(cwd, row, before, result.empty)
    picked = tuple(s for s in shas if s not in result.empty)
    kept = not result.ok and cherrypick.in_progress_pick(wt)  # a pick that went through
    with change(ctx, hotfix=key) as c:                          # left nothing in progress
        _record_pick(c, result, there, kept, commits=list(picked if result.ok else shas))
    if not result.ok:
        raise _pick_error(row["key"], wt, result, keep_conflict)
    return Picked(_fresh(ctx, key, head=result.head), picked, there)


def _record_pick(c: Change, result: cherrypick.PickResult,
                 there: tuple[tuple[str, str], ...], kept: bool, **extra) -> None:
    """The audit events of a pick command: what it picked, what was already there, and
    whether it stopped on a conflict."""
    empty = [{"sha": s, "how": h} for s, h in there]
    moved = result.head != c.row["head_sha"]
    if not result.ok:
        c.audit("hotfix.pick_conflict", after={"files": list(result.conflicts),
                                               "message": result.message, "kept": kept},
                already_there=empty or None, **extra)
        if moved:
            _record_head(c, result.head, "hotfix.head_moved")
    elif moved:
        _record_head(c, result.head, "hotfix.picked", already_there=empty or None, **extra)
    elif empty:
        c.audit("hotfix.pick_empty", after={"already_there": empty}, **extra)


def _record_head(c: Change, head: str, action: str, **extra) -> None:
    row = c.row
    messages = gitops.commit_messages(git_cwd(c.ctx), row["base_sha"], head)
    c.store.execute("UPDATE hotfixes SET head_sha = ?, commit_messages = ?, updated_at = ? "
                    "WHERE id = ?", (head, messages, c.now, row["id"]))
    c.audit(action, before={"head": row["head_sha"]}, after={"head": head}, **extra)
    refresh_approvals(c.ctx, c.store, row, c.now)


def pick_continue(ctx: Context, key: str) -> Picked:
    """Commit a resolved cherry-pick and go on with the rest of the picks."""
    return _resume(ctx, key, skip=False)


def pick_skip(ctx: Context, key: str) -> Picked:
    """Drop the commit whose pick stopped on a conflict and go on with the rest."""
    return _resume(ctx, key, skip=True)


def _resume(ctx: Context, key: str, skip: bool) -> Picked:
    cwd = git_cwd(ctx)
    row = look(ctx, hotfix=key, check=require_editable)
    wt = require_worktree(row)
    before = gitops.worktree_head(wt)
    dropped, result = cherrypick.pick_skip(wt) if skip else ("", cherrypick.pick_continue(wt))
    there = _how_there(cwd, row, before, result.empty)
    kept = cherrypick.in_progress_pick(wt)
    with change(ctx, hotfix=key) as c:
        if dropped:
            c.audit("hotfix.pick_skipped", after={"commit": dropped})
        _record_pick(c, result, there, kept, resolved=not skip)
    if not result.ok:
        raise _pick_error(row["key"], wt, result, True)
    return Picked(_fresh(ctx, key), (), there, (dropped,) if dropped else ())


def pick_abort(ctx: Context, key: str) -> Hotfix:
    cherrypick.pick_abort(require_worktree(look(ctx, hotfix=key)))
    with change(ctx, hotfix=key) as c:
        c.audit("hotfix.pick_aborted")
    return _fresh(ctx, key)
