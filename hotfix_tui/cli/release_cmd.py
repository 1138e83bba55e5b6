"""Closing the loop: finish, missing, timeline, export."""

from __future__ import annotations

import sys

import click

from .. import services
from ..core.models import actor_label
from .common import (
    dump_json,
    emit,
    emit_items,
    err,
    exit_code,
    get_ctx,
    json_option,
    out,
    safe,
    table,
)
from .completers import complete_active_hotfix, complete_hotfix, complete_incident

RECORD_VERSION = 2  # docs/schema/record.json; "schema": "hotfix-tui/record/2"


def _stopped(message: str) -> None:
    err(f"error: {' '.join(message.split())}")
    exit_code(1)


@click.command("finish")
@click.argument("key", shell_complete=complete_active_hotfix)
@click.option("--push", is_flag=True,
              help="Push the tag and the forward-port branches to [hotfix] remote (never "
                   "forced: a non-fast-forward is refused).")
@click.option("--skip-verify", "skip_verify", default=None, metavar="REASON",
              help="Finish a deployed hotfix that was not verified; the reason is recorded.")
@click.option("--continue", "cont", is_flag=True,
              help="Resume after resolving a conflict or cleaning a checkout.")
@click.option("--abort", is_flag=True,
              help="Undo the finish: temp worktrees, forward-ported branches, the tag.")
@click.option("--present", "present", multiple=True, metavar="BRANCH",
              help="BRANCH probably has the fix and you checked that it does: do not port "
                   "it there (repeatable).")
@click.option("--port", "port", multiple=True, metavar="BRANCH",
              help="BRANCH probably has the fix but you checked that it does not: "
                   "forward-port anyway (repeatable).")
@json_option
def finish_cmd(key: str, push: bool, skip_verify: str | None, cont: bool, abort: bool,
               present: tuple[str, ...], port: tuple[str, ...], as_json: bool) -> None:
    """Tag the deployed commit, forward-port into [hotfix] forward_port, mark finished.
    A branch that has the fix already (see `hotfix missing`) is never ported to."""
    if cont and abort:
        raise click.UsageError("--continue and --abort exclude each other")
    if abort and (push or skip_verify is not None or present or port):
        raise click.UsageError("--abort takes no --push, --skip-verify, --present or --port")
    ctx = get_ctx()
    if abort:
        _print_abort(services.finish_abort(ctx, key), as_json)
        return
    result = services.finish(ctx, key, push=push, skip_verify=skip_verify, resume=cont,
                             present=present, port=port)
    if as_json:
        emit(result.to_json())
    else:
        _print_finish(result)
    if result.stopped:
        _stopped(result.stop_message())


def _print_abort(undone, as_json: bool) -> None:
    if as_json:
        emit(undone.to_json())
        return
    for name in undone.restored:
        out(f"{name} moved back to where the finish found it")
    for path in undone.worktrees_removed:
        out(f"removed worktree {safe(path)}")
    if undone.tag_removed:
        out(f"removed tag {undone.tag_removed}")
    out(f"{undone.hotfix} finish aborted ({undone.state})")


def _print_finish(result) -> None:
    out(f"{result.hotfix} tag {result.tag} at {result.sha[:12]}")
    for b in result.branches:
        out(_branch_line(b))
    if result.pushed:
        out(f"pushed to {safe(result.remote)}: {', '.join(result.pushed)}")
    out(f"{result.hotfix} {result.state}")


def _branch_line(b) -> str:
    """One branch of a finish: what it got, and how it has what it was not given."""
    how = "; ".join(f"{e['sha'][:10]} {e['text']}" for e in b.evidence)
    if b.status == "already_present":
        return f"  {b.branch}: already_present: {how}"
    if b.status == "undecided":
        return f"  {b.branch}: undecided: {b.message}"
    line = f"  {b.branch}: {b.status}"
    if b.commits:
        line += f" ({', '.join(c[:10] for c in b.commits)})"
    if b.files:
        line += f" files: {', '.join(safe(f) for f in b.files)}"
    return line + (f"; already there: {how}" if how else "")


@click.command("missing")
@click.argument("key", shell_complete=complete_hotfix)
@click.option("--branch", "branches", multiple=True, metavar="BRANCH",
              help="Also check this branch (repeatable).")
@json_option
def missing_cmd(key: str, branches: tuple[str, ...], as_json: bool) -> None:
    """Which branches lack the fix. A branch has a commit of it by ancestry (of the commit
    or the one it was cherry-picked from), by a `cherry-pick -x` trailer naming it, or by
    the same patch-id; "probably" when only the source matches, for you to decide."""
    report = services.missing(get_ctx(), key, list(branches))
    if as_json:
        emit(report.to_json())
        return
    if report.commits == 0:
        out(f"{report.hotfix} has no commits yet (nothing picked or committed since its "
            "base): nothing to check")
        return
    if not report.branches:
        out("no branches to check (configure [hotfix] forward_port or give --branch)")
    for b in report.branches:
        several = len(b.checks) > 1
        if b.state == "contained":
            out(f"{b.branch}: contains {report.hotfix}" + (
                f" ({len(b.checks)} commits)" if several else f": {b.text}"))
        elif b.state == "probably":
            why = "" if several else f" ({b.text.removeprefix('probably: ')})"
            out(f"{b.branch}: probably contains {report.hotfix}{why}; check it by hand")
        else:
            out(f"{b.branch}: {b.text}")
        if several or b.state == "missing":
            for c in b.checks:
                state = "" if c.verdict.state == "missing" else f" — {c.verdict.text}"
                out(f"  {c.sha[:12]} {safe(c.subject)}" + (
                    " (missing)" if several and not state else state))


def event_json(ev) -> dict:
    """An audit event with its readable line and tone (docs/schema/event.json)."""
    from ..core.timeline import describe

    text, tone = describe(ev)
    return {**ev.to_json(), "text": text, "tone": tone or None}


@click.command("timeline")
@click.argument("incident", shell_complete=complete_incident)
@json_option
def timeline_cmd(incident: str, as_json: bool) -> None:
    """Every event of an incident and its hotfixes, oldest first (notes included)."""
    from ..core.timeline import describe

    ctx = get_ctx()
    events = services.timeline(ctx, incident)
    if as_json:
        emit_items([event_json(ev) for ev in events],
                   incident=services.get_incident(ctx, incident).key)
        return
    marks = {"bad": "!", "warn": "~", "good": "+", "": " "}
    rows = []
    for ev in events:
        text, tone = describe(ev)
        rows.append([ev.at[:19].replace("T", " "), actor_label(ev.actor, ev.actor_verified),
                     f"{marks.get(tone, ' ')} {text}"])
    out(table(["time (utc)", "who", "what"], rows) if rows else "no events")


@click.command("export")
@click.argument("key", shell_complete=complete_hotfix)
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default=None,
              help="md (the default) or json (the same as --json).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), default=None,
              help="Write to this file instead of standard output.")
@json_option
def export_cmd(key: str, fmt: str | None, output: str | None, as_json: bool) -> None:
    """The whole record as a document for the post-incident review and release notes."""
    from pathlib import Path

    from ..core.sanitize import json_text
    from ..services.export import write_text

    if as_json and fmt == "md":
        raise click.UsageError("--json and --format md exclude each other")
    fmt = "json" if as_json else (fmt or "md")
    doc = services.export(get_ctx(), key, fmt)
    if not isinstance(doc, str):
        doc = {"schema_version": RECORD_VERSION, **doc}
    text = doc if isinstance(doc, str) else json_text(doc) + "\n"
    if output:
        write_text(Path(output), text)
        out(f"wrote {output}")
    elif fmt == "md" and sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        if fmt == "json":  # a record: the same text as the file -o writes
            dump_json(doc, pretty=True)
        else:
            out(text, nl=False)


def register(root: click.Group) -> None:
    for cmd in (finish_cmd, missing_cmd, timeline_cmd, export_cmd):
        root.add_command(cmd)
