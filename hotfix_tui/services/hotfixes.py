"""Hotfix use cases on git: start, pick, worktree repair, abandon, and keeping the
record in step with the branch tip."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .. import gitops
from ..core import approval as appr
from ..core.errors import GitError, HotfixError, PolicyRefusal, ValidationError
from ..core.models import Hotfix, HotfixState
from ..core.refs import check_ref, check_revision, format_version, next_patch, version_from_tag
from ..core.workflow import check_hotfix_transition, clean_text, clean_title
from ..store import audit, records
from ..store.db import Store
from . import refusals
from .context import Context
from .usecase import change, look, set_state


@dataclass(frozen=True)
class Started:
    """A hotfix just started, and what the person starting it should know."""

    hotfix: Hotfix
    notes: tuple[str, ...]


# ---- helpers shared by the hotfix services -------------------------------------------

def worktree_root(ctx: Context) -> Path:
    repo = ctx.require_repo()
    configured = ctx.config.hotfix.worktree_dir
    if configured:
        p = Path(configured).expanduser()
        return p if p.is_absolute() else repo.toplevel / p
    return repo.common_dir / "hotfix" / "worktrees"


def git_cwd(ctx: Context) -> Path:
    return ctx.require_repo().toplevel


def current_head(ctx: Context, row) -> str:
    """The hotfix head is the branch tip, re-read on every command."""
    tip = gitops.branch_tip(git_cwd(ctx), row["branch"])
    if tip is None:
        raise GitError(f"{row['key']}: branch {row['branch']} no longer exists")
    return tip


def binding(ctx: Context, store: Store, row, head: str) -> appr.Binding:
    items = records.checklist_for(store, row["id"])
    return appr.Binding(
        head_sha=head,
        tree_sha=gitops.tree_of(git_cwd(ctx), head),
        checklist_hash=appr.checklist_hash(items),
        doc_hash=appr.doc_hash(row["title"], row["why"], row["risk"], row["test_plan"],
                               row["rollback_plan"]),
        config_hash=ctx.fresh_config().sha256,
    )


def approval_drift(ctx: Context, store: Store, row) -> tuple[list[tuple], list]:
    """Approvals whose standing no longer matches the content: (those that count but no
    longer match it, with why; those marked stale whose bound content is back). An
    approval before the newest rejection stays superseded whatever the content."""
    rows = store.all(
        "SELECT * FROM approvals WHERE hotfix_id = ? AND decision = 'approved' AND id > "
        "coalesce((SELECT max(id) FROM approvals WHERE hotfix_id = ? AND "
        "decision = 'rejected'), 0) ORDER BY id", (row["id"], row["id"]))
    if not rows:
        return [], []
    now_binding = binding(ctx, store, row, row["head_sha"])
    gone, back = [], []
    for a in rows:
        reason = appr.stale_reason(records.approval_from_row(a), now_binding)
        if reason and not a["stale"]:
            gone.append((a, reason))
        elif not reason and a["stale"]:
            back.append(a)
    return gone, back


def refresh_approvals(ctx: Context, store: Store, row, now: str) -> bool:
    """Staleness is a function of the content as it is now: mark approvals that no longer
    match it stale, and those whose bound content is back (a change reverted byte for
    byte) valid again, each with its event; then step back to review if too few count,
    or forward to approved if enough count again. Call inside store.write(). True if
    anything changed."""
    row = records.hotfix_row(store, row["key"])
    gone, back = approval_drift(ctx, store, row)
    if not gone and not back:
        return False
    for a, reason in gone:
        store.execute("UPDATE approvals SET stale = 1, stale_reason = ? WHERE id = ?",
                      (reason, a["id"]))
        audit.append(store, ctx.actor, now, "approval", row["key"], "approval.stale",
                     before={"approval": a["id"], "approver": a["approver"],
                             "sha": a["head_sha"]},
                     after={"stale": True, "reason": reason},
                     incident=row["incident_key"], hotfix=row["key"])
    for a in back:
        store.execute("UPDATE approvals SET stale = 0, stale_reason = '' WHERE id = ?",
                      (a["id"],))
        audit.append(store, ctx.actor, now, "approval", row["key"], "approval.valid_again",
                     before={"approval": a["id"], "approver": a["approver"],
                             "sha": a["head_sha"], "reason": a["stale_reason"]},
                     after={"stale": False, "reason": APPROVAL_BACK},
                     incident=row["incident_key"], hotfix=row["key"])
    state = HotfixState(row["state"])
    if state in (HotfixState.APPROVED, HotfixState.IN_REVIEW):
        valid = appr.valid_approvers(records.approvals_for(store, row, ctx.approval_policy))
        enough = len(valid) >= ctx.config.approvals.required
        if state is HotfixState.APPROVED and not enough:
            set_state(ctx, store, row, HotfixState.IN_REVIEW, now, "hotfix.approvals_stale",
                      valid_approvals=len(valid))
        elif state is HotfixState.IN_REVIEW and enough and back:
            set_state(ctx, store, row, HotfixState.APPROVED, now, "hotfix.approved",
                      approvers=sorted(a["approver"] for a in back), sha=row["head_sha"],
                      note=APPROVAL_BACK)
    return True


APPROVAL_BACK = "the content is back to what was approved"


def sync(ctx: Context, key: str, store: Store | None = None,
         head: str | None = None) -> sqlite3.Row:
    """Bring the record in step with git (head) and config; returns the fresh row.
    `head`: the branch tip, if the caller has just read it (or made it).

    Writes only when something changed, and never on a read-only database.
    """
    own = store is None
    store = store or ctx.open(create=False)
    try:
        row = records.hotfix_row(store, key)
        if HotfixState(row["state"]) in (HotfixState.ABANDONED, HotfixState.FINISHED):
            return row
        head = head or current_head(ctx, row)
        needs_write = head != row["head_sha"]
        if not needs_write and not store.readonly and not ctx.readonly:
            needs_write = any(approval_drift(ctx, store, row))
        if not needs_write or store.readonly or ctx.readonly:
            return row
        now = ctx.now()
        with store.write():
            row = records.hotfix_row(store, key)
            if head != row["head_sha"]:
                messages = gitops.commit_messages(git_cwd(ctx), row["base_sha"], head)
                store.execute("UPDATE hotfixes SET head_sha = ?, commit_messages = ?, "
                              "updated_at = ? WHERE id = ?", (head, messages, now, row["id"]))
                audit.append(store, ctx.actor, now, "hotfix", row["key"], "hotfix.head_moved",
                             before={"head": row["head_sha"]}, after={"head": head},
                             incident=row["incident_key"], hotfix=row["key"])
            refresh_approvals(ctx, store, row, now)
            return records.hotfix_row(store, key)
    finally:
        if own:
            store.close()


def load(ctx: Context, key: str, store: Store, head: str | None = None) -> Hotfix:
    sync(ctx, key, store, head)
    return records.get_hotfix(store, key, policy=ctx.approval_policy)


def require_worktree(row) -> Path:
    wt = Path(row["worktree"])
    if not (wt / ".git").exists():
        raise GitError(f"{row['key']}: its worktree {wt} is missing "
                       f"(run 'hotfix worktree {row['key']}' to recreate it)")
    return wt


def require_editable(row) -> None:
    blockers = refusals.edit(row["key"], HotfixState(row["state"]))
    if blockers:
        raise PolicyRefusal(f"changing {row['key']}", blockers)


# ---- start -----------------------------------------------------------------------------

def _production_base(ctx: Context, store: Store) -> tuple[str, str] | None:
    env = store.one("SELECT version, sha FROM environments WHERE name = ?",
                    (ctx.config.hotfix.production_env,))
    if env is None or not env["sha"]:
        return None
    return env["version"] or "", env["sha"]


def _base_version(ctx: Context, cwd: Path, ref: str, sha: str,
                  known: dict[str, str]) -> tuple[int, int, int]:
    fmt = ctx.config.hotfix.tag_format
    v = version_from_tag(ref, fmt)
    if v:
        return v
    for version, _, tagged in gitops.version_tags(cwd, fmt, known):  # tags at the base
        if tagged == sha:
            return version
    near = gitops.nearest_tag(cwd, sha)
    if near and version_from_tag(near, fmt):
        return version_from_tag(near, fmt)
    raise HotfixError(f"cannot tell the release version of {ref}: no tag like "
                      f"{fmt.format(version='X.Y.Z')} at or before it")


def _free_version(ctx: Context, store: Store, refs: dict[str, str],
                  base: tuple[int, int, int]) -> tuple[str, list[str]]:
    """The first patch version after `base` with no tag, no branch and no live hotfix;
    a note (one line, however many were skipped) says which was chosen and why."""
    taken: list[tuple[str, str, str]] = []  # (version, kind, name)
    candidate = next_patch(base)
    for _ in range(1000):
        version = format_version(candidate)
        tag = ctx.config.hotfix.tag_format.format(version=version)
        branch = ctx.config.hotfix.branch_prefix + version
        if f"refs/tags/{tag}" in refs:
            taken.append((version, "tag", tag))
        elif f"refs/heads/{branch}" in refs:
            taken.append((version, "branch", branch))
        elif store.one("SELECT 1 FROM hotfixes WHERE version = ? AND state <> 'abandoned'",
                       (version,)):
            taken.append((version, "hotfix", version))
        else:
            return version, [_taken_note(taken, version)] if taken else []
        candidate = next_patch(candidate)
    raise HotfixError("no free patch version found")


def _choose_base(ctx: Context, store: Store, cwd: Path, base: str | None,
                 known: dict[str, str]) -> tuple[str, str]:
    """(ref, sha) a new hotfix starts from: `base` if given, else what production runs,
    else the newest release tag. `known`: every tag and branch (gitops.refs)."""
    if base is not None:
        return base, gitops.resolve_commit(cwd, base, "base ref")
    prod = _production_base(ctx, store)
    if prod is not None:
        version, base_sha = prod
        base_ref = ctx.config.hotfix.tag_format.format(version=version) if version else base_sha
        if f"refs/tags/{base_ref}" not in known:
            base_ref = base_sha
        return base_ref, base_sha
    tags = gitops.version_tags(cwd, ctx.config.hotfix.tag_format, known)
    if not tags:
        raise HotfixError("no release tag found and nothing recorded as deployed "
                          "to production; give --base REF")
    _, base_ref, base_sha = tags[0]
    return base_ref, base_sha


def _add_worktree(ctx: Context, cwd: Path, version: str, base_sha: str,
                  notes: list[str]) -> tuple[Path, str, str]:
    """(worktree, branch, version) of the new hotfix's branch and worktree, taking the
    next free patch version when another start took this one meanwhile."""
    root = worktree_root(ctx)
    for _ in range(20):
        branch = ctx.config.hotfix.branch_prefix + version
        check_ref(branch, "branch")
        path = root / version
        try:
            gitops.add_worktree(cwd, path, branch, base_sha)
            return path, branch, version
        except GitError as exc:
            if "already exists" not in str(exc):
                raise
            notes.append(f"{version} was taken meanwhile ({exc})")
            version = format_version(next_patch(tuple(int(x) for x in version.split("."))))
    raise HotfixError("could not create a hotfix branch: every candidate was taken")


def _taken_note(taken: list[tuple[str, str, str]], chosen: str) -> str:
    why = []
    for kind, one, many in (("tag", "tag {} exists", "tags {} exist"),
                            ("branch", "branch {} exists", "branches {} exist"),
                            ("hotfix", "another hotfix targets {}", "other hotfixes target {}")):
        names = [name for _, k, name in taken if k == kind]
        if len(names) == 1:
            why.append(one.format(names[0]))
        elif names:
            why.append(many.format(f"{names[0]} … {names[-1]}" if len(names) > 2
                                   else " and ".join(names)))
    first, last = taken[0][0], taken[-1][0]
    which = f"{first} is taken" if len(taken) == 1 else f"{first} to {last} are taken"
    return f"{which} ({', '.join(why)}); using {chosen}"


def start_hotfix(ctx: Context, incident: str, title: str, base: str | None = None) -> Started:
    title = clean_title(title)
    if base is not None:
        check_revision(base, "base ref")
    cwd = ctx.require_repo().toplevel  # found without git; a bare repository is refused
    with ctx.reading() as store:
        inc = records.get_incident(store, incident)
        blockers = refusals.start_hotfix(inc)
        if blockers:
            raise PolicyRefusal(f"start a hotfix for {inc.key}", blockers)
        known = gitops.refs(cwd)  # read once: the base, its version and the free one
        base_ref, base_sha = _choose_base(ctx, store, cwd, base, known)
        base_version = _base_version(ctx, cwd, base_ref, base_sha, known)
        version, notes = _free_version(ctx, store, known, base_version)

    notes_out = list(notes)
    path, branch, version = _add_worktree(ctx, cwd, version, base_sha, notes_out)
    now = ctx.now()
    try:
        with ctx.writing() as store, store.write():
            inc_row = records.incident_row(store, incident)
            n = store.next_id("hotfixes")
            key = f"HF-{n}"
            store.insert("hotfixes", {
                "id": n, "key": key, "incident_id": inc_row["id"], "title": title,
                "author": ctx.actor.name, "author_verified": int(ctx.actor.verified),
                "author_account": ctx.actor.os_account,
                "base_ref": base_ref, "base_sha": base_sha, "branch": branch,
                "worktree": str(path), "head_sha": base_sha, "version": version,
                "state": str(HotfixState.DRAFT), "created_at": now, "updated_at": now,
            })
            for i, text in enumerate(ctx.config.scope.checklist, 1):
                store.insert("checklist_items", {"hotfix_id": n, "kind": "scope", "n": i,
                                                 "text": text})
            hf = records.get_hotfix(store, key, policy=ctx.approval_policy)
            audit.append(store, ctx.actor, now, "hotfix", key, "hotfix.started",
                         after={"title": title, "base_ref": base_ref, "base_sha": base_sha,
                                "branch": branch, "version": version, "worktree": str(path)},
                         incident=inc_row["key"], hotfix=key, notes=notes_out or None)
    except BaseException:
        gitops.remove_worktree(cwd, path)
        gitops.delete_branch(cwd, branch)
        raise
    return Started(hf, tuple(notes_out))


def _fresh(ctx: Context, key: str, head: str | None = None) -> Hotfix:
    with ctx.writing() as store:
        return load(ctx, key, store, head)


# ---- edit, worktree, abandon --------------------------------------------------------------

DOC_FIELDS = ("why", "risk", "test_plan", "rollback_plan")


def edit(ctx: Context, key: str, **fields: str | None) -> Hotfix:
    changes: dict[str, str] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if name == "title":
            changes["title"] = clean_title(value)
        elif name in DOC_FIELDS:
            changes[name] = clean_text(value, name.replace("_", " "))
        else:
            raise ValidationError(f"unknown field {name}")
    if not changes:
        raise ValidationError("nothing to change: give --title, --why, --risk, --test-plan "
                              "or --rollback-plan")
    look(ctx, hotfix=key, check=require_editable)
    with change(ctx, hotfix=key, check=require_editable) as c:
        before = {k: c.row[k] for k in changes}
        actual = {k: v for k, v in changes.items() if before[k] != v}
        if actual:
            sets = ", ".join(f"{k} = ?" for k in actual)
            c.store.execute(f"UPDATE hotfixes SET {sets}, updated_at = ? WHERE id = ?",
                            (*actual.values(), c.now, c.row["id"]))
            c.audit("hotfix.edited", before={k: before[k] for k in actual}, after=actual)
            refresh_approvals(ctx, c.store, c.row, c.now)
    return _fresh(ctx, key)


def repair_worktree(ctx: Context, key: str) -> Hotfix:
    """Recreate a hotfix worktree that was deleted by hand."""
    cwd = git_cwd(ctx)
    row = look(ctx, hotfix=key, check=require_editable)
    wt = Path(row["worktree"])
    if (wt / ".git").exists():
        raise HotfixError(f"{row['key']}: worktree {wt} is present; nothing to repair")
    gitops.run_git(cwd, "worktree", "prune")
    if wt.exists() and any(wt.iterdir()):
        raise HotfixError(f"{wt} exists and is not a worktree; move it away first")
    gitops.run_git(cwd, "worktree", "add", "--quiet", str(wt.absolute()), row["branch"])
    with change(ctx, hotfix=key) as c:
        c.audit("hotfix.worktree_restored", after={"worktree": str(wt)})
    return _fresh(ctx, key)


def abandon(ctx: Context, key: str, reason: str) -> Hotfix:
    reason = clean_text(reason, "reason")
    if not reason:
        raise ValidationError("give a --reason for abandoning")
    cwd = git_cwd(ctx)
    row = look(ctx, hotfix=key, check=lambda r: check_hotfix_transition(
        r["key"], HotfixState(r["state"]), HotfixState.ABANDONED))
    with change(ctx, hotfix=key) as c:
        c.set_state(HotfixState.ABANDONED, "hotfix.abandoned", reason=reason)
    gitops.remove_worktree(cwd, Path(row["worktree"]))
    with ctx.reading() as store:
        return records.get_hotfix(store, key, policy=ctx.approval_policy)
