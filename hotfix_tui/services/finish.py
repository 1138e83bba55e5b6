"""Finishing a hotfix: tag what was deployed, forward-port it into the regular branches,
and mark it finished once every branch carries the fix.

The finish is a saved state machine (`hotfixes.finish_state`, JSON) so that it can
stop on a conflict or a dirty checkout and be resumed (`--continue`, or simply run
again) or undone (`--abort`). Every step is idempotent and audited. Branches are
moved only by compare-and-swap (`update-ref NEW OLD`), or, where a clean worktree
has the branch checked out, by `merge --ff-only` there; a dirty checkout is never
touched.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import cherrypick, gitops
from ..core.backport import MISSING, PROBABLY
from ..core.errors import GitError, HotfixError, NotFound, PolicyRefusal, ValidationError
from ..core.models import HotfixState
from ..core.record import tag_message
from ..core.refs import check_ref
from ..core.workflow import clean_text
from ..store import records
from . import refusals
from .context import Context
from .export import build_record
from .finish_push import push_finished
from .finish_state import (
    BLOCKED,
    CONFLICT,
    DONE,
    PENDING,
    PICKING,
    PORTED,
    PRESENT,
    READY,
    UNDECIDED,
    FinishResult,
    deployed_sha,
    finish_dir,
    finish_result,
    load_state,
    save_state,
)
from .hotfixes import git_cwd
from .missing import check_branches
from .usecase import change

# ---- finish ----------------------------------------------------------------------------

def finish(ctx: Context, key: str, *, push: bool = False, skip_verify: str | None = None,
           resume: bool = False, present: tuple[str, ...] | list[str] = (),
           port: tuple[str, ...] | list[str] = ()) -> FinishResult:
    """Tag, forward-port and finish; resumes a finish that stopped. Returns what each
    branch got; a stopped finish is not an exception (see FinishResult.stopped).

    `present` and `port` are a person's decisions for branches that probably have the
    fix already (the same source, a different patch): count it as there, or port anyway."""
    skip = clean_text(skip_verify, "skip-verify reason") if skip_verify is not None else ""
    if skip_verify is not None and not skip:
        raise ValidationError("--skip-verify needs a reason")
    decisions = _decisions(present, port)
    cwd = git_cwd(ctx)
    with ctx.reading() as store:
        row = records.hotfix_row(store, key)
        sha = deployed_sha(store, row, ctx.config.gate_env)
        fs = load_state(row)
        blockers = refusals.finish(ctx, store, row, skip=skip, resuming=fs is not None)
    key = row["key"]
    state = HotfixState(row["state"])
    if state is HotfixState.FINISHED:
        return _finished_again(ctx, row, fs, push, resume or bool(decisions))
    if resume and fs is None:
        raise HotfixError(f"{key}: no finish in progress; run 'hotfix finish {key}'")
    if blockers:
        raise PolicyRefusal(f"finish {key}", blockers)
    if skip and state is HotfixState.VERIFIED:
        raise ValidationError(f"{key} is verified; --skip-verify is not needed")
    if fs is None:
        fs = _begin(ctx, cwd, row, sha, skip, decisions)
    _decide(ctx, key, fs, decisions)
    return _carry_on(ctx, cwd, key, fs, push)


def _finished_again(ctx: Context, row, fs: dict | None, push: bool,
                    asked: bool) -> FinishResult:
    """`hotfix finish` of a finished hotfix: its result again (and the push, if asked);
    there is nothing to continue or decide."""
    if asked or fs is None:
        raise HotfixError(f"{row['key']} is already finished; nothing to continue or decide")
    return push_finished(ctx, row["key"]) if push else finish_result(row, fs)


def _begin(ctx: Context, cwd: Path, row, sha: str, skip: str,
           decisions: dict[str, str]) -> dict:
    """Plan the finish (checked before anything changes) and record that it started."""
    key = row["key"]
    fs = _plan(ctx, cwd, row, sha)
    _check_decisions(fs, decisions)

    def unchanged(current) -> None:
        if current["finish_state"] or current["state"] != row["state"]:
            raise HotfixError(f"{key} changed while starting the finish; try again")

    with change(ctx, hotfix=key, check=unchanged) as c:
        fs["skip_verify"] = skip
        c.store.execute("UPDATE hotfixes SET finish_state = ?, updated_at = ? WHERE id = ?",
                        (json.dumps(fs, sort_keys=True), c.now, row["id"]))
        if skip:
            c.store.execute("UPDATE hotfixes SET skip_verify_reason = ? WHERE id = ?",
                            (skip, row["id"]))
        c.audit("finish.started", after={"tag": fs["tag"], "sha": sha,
                                         "branches": [b["branch"] for b in fs["branches"]],
                                         "skip_verify_reason": skip or None})
    return fs


def _decide(ctx: Context, key: str, fs: dict, decisions: dict[str, str]) -> None:
    """Record a person's word on branches that probably have the fix already."""
    _check_decisions(fs, decisions)
    for name, what in decisions.items():
        if fs.setdefault("decisions", {}).get(name) != what:
            fs["decisions"][name] = what
            save_state(ctx, key, fs, "finish.decided", branch=name, decision=what)


def _carry_on(ctx: Context, cwd: Path, key: str, fs: dict, push: bool) -> FinishResult:
    """Every step not done yet: the tag, then each branch; finished once all are."""
    _tag_step(ctx, cwd, key, fs)
    for b in fs["branches"]:
        if b["status"] not in DONE:
            _advance(ctx, cwd, key, fs, b)
    if any(b["status"] not in DONE for b in fs["branches"]):
        with ctx.reading() as store:
            return finish_result(records.hotfix_row(store, key), fs)
    _mark_finished(ctx, key, fs)
    return push_finished(ctx, key) if push else _result_of(ctx, key)


def _result_of(ctx: Context, key: str) -> FinishResult:
    with ctx.reading() as store:
        row = records.hotfix_row(store, key)
    return finish_result(row, load_state(row) or {"tag": row["tag"], "sha": "", "branches": []})


def _decisions(present, port) -> dict[str, str]:
    """A person's word on branches that probably have the fix: branch → present | port."""
    out: dict[str, str] = {}
    for what, names in (("present", present), ("port", port)):
        for name in names:
            check_ref(name, "branch")
            if out.get(name, what) != what:
                raise ValidationError(f"--present {name} and --port {name} exclude each other")
            out[name] = what
    return out


def _check_decisions(fs: dict, decisions: dict[str, str]) -> None:
    branches = {b["branch"]: b for b in fs["branches"]}
    for name in decisions:
        if name not in branches:
            raise ValidationError(f"{name} is not a forward-port branch of this finish "
                                  f"({', '.join(branches) or 'none'})")
        if branches[name]["status"] in DONE:
            raise ValidationError(f"{name} is already done ({branches[name]['status']}); "
                                  "nothing to decide")


def _plan(ctx: Context, cwd: Path, row, sha: str) -> dict:
    """The finish to do, checked before anything changes."""
    tag = ctx.config.hotfix.tag_format.format(version=row["version"])
    check_ref(tag, "tag")
    existing = gitops.tag_commit(cwd, tag)
    if existing is not None and existing != sha:
        raise GitError(f"tag {tag} already exists at {existing[:12]}, not at the deployed "
                       f"{sha[:12]}; delete or rename it first")
    names: list[str] = []
    for name in ctx.config.hotfix.forward_port:
        check_ref(name, "forward-port branch")
        if name not in names and name != row["branch"]:
            names.append(name)
    for name in names:
        if gitops.branch_tip(cwd, name) is None:
            raise NotFound(f"forward-port branch {name} does not exist "
                           "([hotfix] forward_port in .hotfix.toml)")
    return {"v": 1, "tag": tag, "sha": sha, "base": row["base_sha"],
            "commits": gitops.rev_list(cwd, row["base_sha"], sha),
            "tag_done": False, "tag_created": False, "tag_object": None,
            "branches": [{"branch": n, "status": PENDING} for n in names]}


def _tag_step(ctx: Context, cwd: Path, key: str, fs: dict) -> None:
    if fs["tag_done"]:
        return
    tag, sha = fs["tag"], fs["sha"]
    existing = gitops.tag_commit(cwd, tag)
    if existing is not None and existing != sha:
        raise GitError(f"tag {tag} already exists at {existing[:12]}, not at the deployed "
                       f"{sha[:12]}; delete or rename it, or 'hotfix finish {key} --abort'")
    if existing is None:
        obj = gitops.create_annotated_tag(cwd, tag, sha, tag_message(build_record(
            ctx, key, git_details=False)))
        fs.update(tag_done=True, tag_created=True, tag_object=obj)
        save_state(ctx, key, fs, "finish.tag_created", tag=tag, sha=sha)
    else:
        fs.update(tag_done=True, tag_created=False, tag_object=gitops.tag_object(cwd, tag))
        save_state(ctx, key, fs, "finish.tag_existing", tag=tag, sha=sha)


def _mark_finished(ctx: Context, key: str, fs: dict) -> None:
    fs["done"] = True
    with change(ctx, hotfix=key) as c:
        c.store.execute("UPDATE hotfixes SET tag = ?, finish_state = ? WHERE id = ?",
                        (fs["tag"], json.dumps(fs, sort_keys=True), c.row["id"]))
        c.set_state(HotfixState.FINISHED, "hotfix.finished", tag=fs["tag"], sha=fs["sha"],
                    branches={b["branch"]: b["status"] for b in fs["branches"]},
                    skip_verify_reason=c.row["skip_verify_reason"] or None)


# ---- one branch ------------------------------------------------------------------------

def _worktree_for(ctx: Context, key: str, branch: str) -> Path:
    return finish_dir(ctx) / f"{key}-{branch.replace('/', '-')}"


def _advance(ctx: Context, cwd: Path, key: str, fs: dict, b: dict, retries: int = 2) -> None:
    """Move one branch as far as it goes: pick, then update the branch."""
    name = b["branch"]
    if b["status"] in (PENDING, UNDECIDED) and not _start_branch(ctx, cwd, key, fs, b):
        return
    if b["status"] in (PICKING, CONFLICT) and not _pick(ctx, key, fs, b):
        return
    if b["status"] in (READY, BLOCKED):
        moved = _update_branch(ctx, cwd, key, fs, b)
        if moved is None and retries > 0:  # the branch moved meanwhile: start it over
            _advance(ctx, cwd, key, fs, b, retries - 1)
        elif moved is None:
            raise GitError(f"{name} keeps moving while finishing {key}; try again")


def _sort_checks(checked, decision: str | None):
    """(to port, present, unsure, evidence) of one branch's checks, by a person's word
    on the probable ones."""
    todo, have, unsure, evidence = [], [], [], []
    for c in checked.checks:
        v = c.verdict
        if v.state == MISSING or (v.state == PROBABLY and decision == "port"):
            todo.append(c.sha)
        elif v.state == PROBABLY and decision is None:
            unsure.append(c)
        else:
            text = v.text if v.state != PROBABLY else f"{v.text}; present by decision"
            have.append(c.sha)
            evidence.append({"sha": c.sha, "evidence": v.evidence, "text": text})
    return todo, have, unsure, evidence


def _start_branch(ctx: Context, cwd: Path, key: str, fs: dict, b: dict) -> bool:
    """What the branch lacks: nothing (done), undecided (waits), or commits to pick in a
    temp worktree at its tip (True: go on picking)."""
    name = b["branch"]
    tip = gitops.branch_tip(cwd, name)
    if tip is None:
        raise NotFound(f"forward-port branch {name} does not exist")
    (checked,) = check_branches(cwd, fs["base"], fs["sha"], [name])
    todo, have, unsure, evidence = _sort_checks(checked, fs.get("decisions", {}).get(name))
    if unsure:
        message = unsure[0].verdict.text
        changed = b["status"] != UNDECIDED or b.get("message") != message
        b.update(status=UNDECIDED, present=have, remaining=[c.sha for c in unsure],
                 files=[], message=message, evidence=evidence)
        if changed:
            save_state(ctx, key, fs, "finish.undecided", branch=name, reason=message,
                       commits=[c.sha for c in unsure])
        return False
    if not todo:
        b.update(status=PRESENT, present=have, files=[], message="", evidence=evidence)
        save_state(ctx, key, fs, "finish.already_present", branch=name, tip=tip,
                   commits=have, evidence=[e["text"] for e in evidence])
        return False
    wt = _worktree_for(ctx, key, name)
    gitops.remove_worktree(cwd, wt)
    gitops.add_detached_worktree(cwd, wt, tip)
    b.update(status=PICKING, onto=tip, worktree=str(wt), remaining=todo, picked=[],
             present=have, files=[], message="", evidence=evidence)
    save_state(ctx, key, fs)
    return True


def _pick(ctx: Context, key: str, fs: dict, b: dict) -> bool:
    """Cherry-pick the remaining commits in the temp worktree; False if it stopped."""
    wt = Path(b["worktree"])
    if not (wt / ".git").exists():
        raise GitError(f"the forward-port worktree {wt} is missing; run 'hotfix finish "
                       f"{key} --abort' and finish again")
    if b["status"] == CONFLICT:
        if cherrypick.in_progress_pick(wt):
            res = cherrypick.resume_pick(wt)
            if not res.ok:
                files = list(res.conflicts) or b.get("files") or []
                b.update(files=files, message=res.message)
                return False
            done = _empty(b) if res.message == "empty" else b["picked"]
        elif gitops.worktree_head(wt) == b.get("before_pick"):
            raise GitError(f"the conflicted cherry-pick in {wt} was given up by hand; run "
                           f"'hotfix finish {key} --abort' and finish again")
        else:
            done = b["picked"]  # committed by hand
        done.append(b["remaining"].pop(0))
        b.update(status=PICKING, files=[], message="")
        save_state(ctx, key, fs, "finish.resolved", branch=b["branch"])
    while b["remaining"]:
        commit = b["remaining"][0]
        before = gitops.worktree_head(wt)
        res = _pick_one(key, b, wt, commit)
        if not res.ok:
            b.update(status=CONFLICT, files=list(res.conflicts), before_pick=before,
                     message=res.message)
            save_state(ctx, key, fs, "finish.conflict", branch=b["branch"], commit=commit,
                       files=list(res.conflicts), worktree=str(wt))
            return False
        (_empty(b) if res.message == "empty" else b["picked"]).append(b["remaining"].pop(0))
    b.update(status=READY, new=gitops.worktree_head(wt))
    save_state(ctx, key, fs)
    return True


def _pick_one(key: str, b: dict, wt: Path, commit: str):
    """One pick; a lock a killed git left behind is cleared and the pick tried again. A
    pick git could not even start (a lock, a full disk) is no conflict: it is an error,
    and the branch stays "picking" so that --continue (or finish again) retries it."""
    res = cherrypick.pick_one(wt, commit)
    if not res.ok and not res.conflicts and cherrypick.clear_stale_lock(wt):
        res = cherrypick.pick_one(wt, commit)
    if not res.ok and not res.conflicts:
        raise GitError(f"forward-port to {b['branch']}: git could not cherry-pick "
                       f"{commit[:12]} in {wt}: {res.message}; once that is fixed, run "
                       f"'hotfix finish {key} --continue' (or --abort)")
    return res


def _empty(b: dict) -> list[str]:
    """Where a commit whose pick turned out empty goes, with the reason: the branch has
    the change already (in a form none of the three kinds of evidence caught)."""
    commit = b["remaining"][0]
    b.setdefault("evidence", []).append({"sha": commit, "evidence": None, "text": (
        "its pick was empty: the change is there already")})
    return b["present"]


def _update_branch(ctx: Context, cwd: Path, key: str, fs: dict, b: dict) -> bool | None:
    """Move the branch to the picked result. True: done; False: blocked; None: the branch
    moved since the picks (they must be redone on its new tip)."""
    name, new, onto = b["branch"], b["new"], b["onto"]
    wt = Path(b["worktree"])
    if new == onto:  # every pick turned out empty: the change was there already
        gitops.remove_worktree(cwd, wt)
        b.update(status=PRESENT, files=[], message="")
        save_state(ctx, key, fs, "finish.already_present", branch=name, tip=onto,
                   commits=b["present"])
        return True
    if gitops.branch_tip(cwd, name) != onto:
        return _restart(ctx, cwd, key, fs, b)
    checkout = gitops.branch_checkouts(cwd).get(name)
    if checkout is None:
        if not gitops.update_branch(cwd, name, new, onto, f"hotfix finish {key}"):
            return _restart(ctx, cwd, key, fs, b)
    else:
        dirty = gitops.tracked_changes(checkout)
        if dirty:
            return _block(ctx, key, fs, b, dirty, f"{name} is checked out in {checkout} with "
                          f"uncommitted changes ({', '.join(dirty[:5])}); commit or stash "
                          "them (it was not touched)")
        res = gitops.fast_forward(checkout, new)
        if not res.ok:
            first = next((ln for ln in (res.err + "\n" + res.out).splitlines() if ln.strip()),
                         f"exit {res.status}")
            return _block(ctx, key, fs, b, [], f"{name} is checked out in {checkout} and "
                          f"could not be fast-forwarded ({first.removeprefix('error: ')})")
    gitops.remove_worktree(cwd, wt)
    b.update(status=PORTED, files=[], message="", checkout=str(checkout) if checkout else None)
    save_state(ctx, key, fs, "finish.ported", branch=name, before=onto, tip=new,
               commits=b["picked"], checkout=str(checkout) if checkout else None)
    return True


def _block(ctx: Context, key: str, fs: dict, b: dict, files: list[str], message: str) -> bool:
    changed = b["status"] != BLOCKED or b.get("message") != message
    b.update(status=BLOCKED, files=files, message=message)
    if changed:
        save_state(ctx, key, fs, "finish.blocked", branch=b["branch"], reason=message,
                   files=files)
    return False


def _restart(ctx: Context, cwd: Path, key: str, fs: dict, b: dict) -> None:
    gitops.remove_worktree(cwd, Path(b["worktree"]))
    b.update(status=PENDING, files=[], message="")
    save_state(ctx, key, fs)
    return None
