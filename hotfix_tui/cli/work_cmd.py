"""Commands that move a hotfix from start to approval."""

from __future__ import annotations

import click

from .. import services
from ..core.models import ChecklistItem
from .common import emit, emit_items, get_ctx, json_option, out, safe, table, warn
from .completers import complete_active_hotfix, complete_hotfix, complete_open_incident
from .hotfix_cmd import approvals_summary, hotfix_text, summary_json


def hotfix_json(ctx, key: str, **extra) -> dict:
    """What every hotfix command prints with --json: the hotfix as `show` has it."""
    return {**services.show(ctx, key).to_json(), **extra}


# What a pick adds to the hotfix document (docs/schema/hotfix.json).
PICK_KEYS = ("picked", "already_there", "skipped")


def _emit_hotfix(hf, as_json: bool, line: str) -> None:
    if as_json:
        emit(hotfix_json(get_ctx(), hf.key))
    else:
        out(line)


def _key_arg(active: bool = True):
    return click.argument("key", shell_complete=complete_active_hotfix if active
                          else complete_hotfix)


@click.command("init")
def init_cmd() -> None:
    """Write a commented .hotfix.toml (never overwritten) and create the database."""
    for line in services.init_config(get_ctx(create_db=True)):
        out(line)


@click.command("start")
@click.option("--incident", required=True, help="The incident this hotfix is for.",
              shell_complete=complete_open_incident)
@click.option("--title", required=True, help="What the hotfix fixes.")
@click.option("--base", default=None,
              help="Release to branch from (default: what production runs, else the "
                   "highest release tag).")
@json_option
def start_cmd(incident: str, title: str, base: str | None, as_json: bool) -> None:
    """Start a hotfix: a branch at the base release and a worktree of its own."""
    started = services.start_hotfix(get_ctx(), incident, title, base)
    for note in started.notes:
        warn(safe(note))
    hf = started.hotfix
    if as_json:
        emit(hotfix_json(get_ctx(), hf.key, notes=list(started.notes)))
    else:
        out(f"{hf.key} {hf.version} from {hf.base_ref}")
        out(f"worktree: {hf.worktree}")


@click.command("pick")
@_key_arg()
@click.argument("commits", nargs=-1)
@click.option("--mainline", "-m", type=click.IntRange(1, 16), default=None,
              help="For a merge commit: the parent to diff against (1 = merged-into).")
@click.option("--keep-conflict", is_flag=True,
              help="On conflict, leave the cherry-pick in progress to resolve by hand.")
@click.option("--continue", "cont", is_flag=True, help="Finish a resolved cherry-pick.")
@click.option("--skip", is_flag=True,
              help="Drop the commit whose pick stopped, and go on with the rest.")
@click.option("--abort", is_flag=True, help="Give up a cherry-pick in progress.")
@json_option
def pick_cmd(key: str, commits: tuple[str, ...], mainline: int | None, keep_conflict: bool,
             cont: bool, skip: bool, abort: bool, as_json: bool) -> None:
    """Cherry-pick (-x) commits into the hotfix worktree, in order. A commit whose change
    the hotfix already has (the pick would be empty) is skipped and named, not a conflict."""
    ctx = get_ctx()
    if cont + skip + abort > 1:
        raise click.UsageError("--continue, --skip and --abort exclude each other")
    if (cont or skip or abort) and commits:
        raise click.UsageError("--continue/--skip/--abort take no commits")
    if abort:
        hf = services.pick_abort(ctx, key)
        _emit_hotfix(hf, as_json, f"{hf.key} head {hf.head_sha[:12]}")
        return
    if cont:
        done = services.pick_continue(ctx, key)
    elif skip:
        done = services.pick_skip(ctx, key)
    else:
        if not commits:
            raise click.UsageError("give at least one COMMIT to pick")
        done = services.pick(ctx, key, list(commits), mainline, keep_conflict)
    if as_json:
        result = done.to_json()
        emit(hotfix_json(ctx, done.hotfix.key, **{k: result[k] for k in PICK_KEYS}))
        return
    for note in done.notes():
        out(safe(note))
    out(f"{done.hotfix.key} head {done.hotfix.head_sha[:12]}")


@click.command("scope")
@_key_arg(active=False)
@json_option
def scope_cmd(key: str, as_json: bool) -> None:
    """Measure the diff against the scope budget (exit 0 whatever the violations)."""
    report = services.scope(get_ctx(), key)
    if as_json:
        emit(report.to_json())
        return
    rows = []
    for f in report.files:
        name = f"{f.old_path} → {f.path}" if f.old_path else f.path
        rows.append([f.status, name, "bin" if f.binary else f"+{f.insertions}",
                     "" if f.binary else f"-{f.deletions}"])
    if rows:
        out(table(["st", "file", "ins", "del"], rows))
    out(f"{report.files_changed} files (budget {report.max_files}), "
        f"+{report.insertions} -{report.deletions} = {report.lines} lines "
        f"(budget {report.max_lines}), {report.commits} commits")
    for v in report.violations:
        out(f"violation: {v.rule}: {safe(v.detail)}")
    if not report.violations:
        out("no violations")


def _checklist_rows(items: list[ChecklistItem]) -> str:
    rows = []
    for i in items:
        if i.automatic:
            mark = "[auto: pass]" if i.passed else "[auto: FAIL]"
            who = i.detail
        else:
            mark = "[x]" if i.checked else "[ ]"
            who = f"{i.checked_by}{'' if i.checked_by_verified else ' (unverified)'} " \
                  f"{i.checked_at}" if i.checked else ""
        rows.append([str(i.n), mark, i.text, who])
    return table(["n", "state", "item", "by / detail"], rows)


@click.command("checklist")
@_key_arg(active=False)
@json_option
def checklist_cmd(key: str, as_json: bool) -> None:
    """The scope checklist: configured items and automatic ones from the diff."""
    ctx = get_ctx()
    items = services.checklist(ctx, key)
    if as_json:
        emit_items([i.to_json() for i in items], hotfix=services.get_hotfix(ctx, key).key)
    else:
        out(_checklist_rows(items))


@click.command("check")
@_key_arg()
@click.argument("n", type=int)
@click.option("--uncheck", is_flag=True, help="Untick the item.")
@json_option
def check_cmd(key: str, n: int, uncheck: bool, as_json: bool) -> None:
    """Tick (or untick) checklist item N; who and when are recorded."""
    ctx = get_ctx()
    items = services.check(ctx, key, n, not uncheck)
    if as_json:
        emit(hotfix_json(ctx, key))
    else:
        item = next(i for i in items if i.n == n)
        out(f"{'[x]' if item.checked else '[ ]'} {n} {item.text}")


@click.command("edit")
@_key_arg()
@click.option("--title", default=None)
@click.option("--why", default=None, help="Why this hotfix is needed now.")
@click.option("--risk", default=None, help="What could go wrong.")
@click.option("--test-plan", "test_plan", default=None, help="How it was or will be tested.")
@click.option("--rollback-plan", "rollback_plan", default=None, help="How to undo it.")
@json_option
def edit_cmd(key: str, as_json: bool, **fields) -> None:
    """Fill in the documentation fields."""
    hf = services.edit(get_ctx(), key, **fields)
    _emit_hotfix(hf, as_json, f"{hf.key} updated")


@click.command("submit")
@_key_arg()
@click.option("--accept-scope", default=None, metavar="REASON",
              help="Submit despite failing automatic scope items; the reason is recorded.")
@json_option
def submit_cmd(key: str, accept_scope: str | None, as_json: bool) -> None:
    """Submit for review (draft → in_review); every refusal reason is listed."""
    hf = services.submit(get_ctx(), key, accept_scope)
    _emit_hotfix(hf, as_json, f"{hf.key} {hf.state}")


@click.command("approve")
@_key_arg()
@click.option("--comment", default="", help="Optional comment.")
@click.option("--sha", "expected", default=None,
              help="Refuse unless the head is still this commit (what you reviewed).")
@json_option
def approve_cmd(key: str, comment: str, expected: str | None, as_json: bool) -> None:
    """Approve the hotfix as it is now (bound to head, tree, checklist, docs, config)."""
    ctx = get_ctx()
    hf = services.approve(ctx, key, comment, expected)
    _emit_hotfix(hf, as_json, f"{hf.key} {hf.state} "
                 f"({approvals_summary(hf, ctx.config.approvals.required)} approvals)"
                 + _signed_by(hf, ctx.actor.name))


def _signed_by(hf, me: str) -> str:
    """`; signed with SHA256:…` when the acting person's last decision is signed."""
    mine = [a for a in hf.approvals if a.approver == me]
    check = mine[-1].signature_check() if mine else None
    return f"; signed with {check.key_fingerprint}" if check and check.valid else ""


@click.command("reject")
@_key_arg()
@click.option("--comment", required=True, help="Why: the author needs to know.")
@json_option
def reject_cmd(key: str, comment: str, as_json: bool) -> None:
    """Reject: back to draft, with the comment."""
    ctx = get_ctx()
    hf = services.reject(ctx, key, comment)
    _emit_hotfix(hf, as_json, f"{hf.key} {hf.state}" + _signed_by(hf, ctx.actor.name))


@click.command("abandon")
@_key_arg()
@click.option("--reason", required=True)
@json_option
def abandon_cmd(key: str, reason: str, as_json: bool) -> None:
    """Abandon: remove the worktree, keep the branch and the record."""
    hf = services.abandon(get_ctx(), key, reason)
    _emit_hotfix(hf, as_json, f"{hf.key} abandoned (branch {hf.branch} kept)")


@click.command("worktree")
@_key_arg()
@json_option
def worktree_cmd(key: str, as_json: bool) -> None:
    """Recreate a hotfix worktree that was deleted by hand."""
    hf = services.repair_worktree(get_ctx(), key)
    _emit_hotfix(hf, as_json, f"{hf.key} worktree: {hf.worktree}")


@click.command("queue")
@json_option
def queue_cmd(as_json: bool) -> None:
    """Hotfixes waiting for your approval."""
    ctx = get_ctx()
    items = services.review_queue(ctx)
    if as_json:
        emit_items([summary_json(h) for h in items], has_more=False, next_before=None)
    elif not items:
        out("nothing waits for your approval")
    else:
        for h in items:
            out(hotfix_text(h, ctx.config.approvals.required))


def register(root: click.Group) -> None:
    for cmd in (init_cmd, start_cmd, pick_cmd, scope_cmd, checklist_cmd, check_cmd, edit_cmd,
                submit_cmd, approve_cmd, reject_cmd, abandon_cmd, worktree_cmd, queue_cmd):
        root.add_command(cmd)
