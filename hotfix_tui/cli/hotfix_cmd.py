"""`hotfix list`, `hotfix history`, `hotfix show` and `hotfix diff`."""

from __future__ import annotations

import os
import shlex
import sys

import click

from .. import services
from ..core.models import EnvVerification, Hotfix, HotfixState, VerificationState, actor_label
from .common import emit, emit_items, err, get_ctx, json_option, out, safe, table
from .completers import complete_hotfix, complete_incident

DEFAULT_LIMIT = 100


def approvals_summary(hf: Hotfix, required: int) -> str:
    from ..core.approval import valid_approvers

    return f"{len(valid_approvers(hf.approvals))}/{required}"


def approval_lines(hf: Hotfix) -> list[str]:
    """One line per approval: who (and the account behind an override), what, whether it
    counts and why not, and its signature."""
    out = []
    for a in hf.approvals:
        who = actor_label(a.approver, a.approver_verified, a.approver_account)
        what = a.decision + (" after the fact" if a.retroactive else "")
        state = "counts" if a.counts else f"does not count: {a.not_counted}"
        sig = a.signature_check()
        mark = sig.mark if sig.valid is not False else f"BAD SIGNATURE: {sig.reason}"
        out.append(f"    {safe(who)}  {what} at {a.sha[:10]}  {safe(state)}  [{safe(mark)}]")
    return out


def verification_text(v: EnvVerification) -> str:
    """One environment of a hotfix: what was deployed there, and its verification."""
    text = f"{v.version} ({v.sha[:10]}) deployed {v.deployed_at[:16].replace('T', ' ')}"
    if v.deploy:
        text += f" by {v.deploy}"
    if v.state is VerificationState.PASSED:
        text += (f"; verified by {safe(actor_label(v.verified_by or '-', v.verified_by_verified))}"
                 f" {(v.verified_at or '')[:16].replace('T', ' ')}")
    elif v.state is VerificationState.FAILED:
        text += "; verification FAILED" + (f" ({v.run})" if v.run else "")
    else:
        text += "; verification pending"
    if v.rolled_back_by:
        text += f"; rolled back ({v.rolled_back_by})"
    return text


def hotfix_text(hf: Hotfix, required: int) -> str:
    lines = [
        f"{hf.key}  {hf.state}  {safe(hf.title)}",
        f"  incident:   {hf.incident}",
        f"  author:     {safe(actor_label(hf.author, hf.author_verified))}",
        f"  version:    {hf.version} (branch {safe(hf.branch)}, base {safe(hf.base_ref)})",
        f"  head:       {hf.head_sha}",
        f"  worktree:   {safe(hf.worktree)}",
        f"  approvals:  {approvals_summary(hf, required)}",
        *approval_lines(hf),
    ]
    for v in hf.environments:
        lines.append(f"  on {v.env}: {verification_text(v)}")
    if hf.break_glass:
        lines.append(f"  BREAK-GLASS: deployed without approval: {safe(hf.break_glass_reason)}")
    for label, value in (("why", hf.why), ("risk", hf.risk), ("test plan", hf.test_plan),
                         ("rollback plan", hf.rollback_plan)):
        text = (safe(value) or "-").replace("\n", "\n" + " " * 17)
        lines.append(f"  {label + ':':<15}{text}")
    return "\n".join(lines)


def summary_json(hf: Hotfix) -> dict:
    """A hotfix in a list: everything but the checklist, which only `show` computes."""
    return {**hf.to_json(), "checklist": None}


limit_option = click.option(
    "--limit", type=click.IntRange(min=0), default=DEFAULT_LIMIT, show_default=True,
    help="At most this many, newest first (0: all).")
before_option = click.option(
    "--before", "before", default=None, metavar="KEY", shell_complete=complete_hotfix,
    help="Continue below this hotfix (the next page; --json gives it as next_before).")


def _page_out(page, as_json: bool, required: int, next_hint: list[str],
              **extra) -> None:
    """Print a page of hotfixes: a table, or a hotfix-list document (docs/schema)."""
    rows = page.rows
    next_before = rows[-1].key if page.has_more and rows else None
    if as_json:
        emit_items([summary_json(h) for h in rows], has_more=page.has_more,
                   next_before=next_before, **extra)
        return
    if not rows:
        out("no hotfixes")
        return
    out(table(
        ["key", "incident", "state", "version", "author", "appr", "title"],
        [[h.key, h.incident, str(h.state), h.version, actor_label(h.author, h.author_verified),
          approvals_summary(h, required), h.title] for h in rows],
    ))
    if next_before:
        cmd = shlex.join(["hotfix", *next_hint, "--before", next_before])
        err(f"more: {cmd}")


@click.command("list")
@click.option("--state", type=click.Choice([str(s) for s in HotfixState]), default=None)
@click.option("--incident", default=None, metavar="INC", shell_complete=complete_incident,
              help="Only hotfixes of this incident.")
@click.option("--since", default=None, metavar="WHEN",
              help="Only hotfixes started since WHEN: a day (2026-03-01), a UTC time "
                   "(2026-03-01T14:00) or a span back from now (30m, 12h, 7d, 2w).")
@limit_option
@before_option
@json_option
def list_cmd(state: str | None, incident: str | None, since: str | None, limit: int,
             before: str | None, as_json: bool) -> None:
    """List hotfixes, newest first."""
    ctx = get_ctx()
    page = services.list_page(ctx, state=state, incident=incident, since=since,
                              before=before, limit=limit or None)
    hint = ["list"]
    for name, value in (("--state", state), ("--incident", incident), ("--since", since)):
        if value is not None:
            hint += [name, value]
    if limit != DEFAULT_LIMIT:
        hint += ["--limit", str(limit)]
    _page_out(page, as_json, ctx.config.approvals.required, hint)


@click.command("history")
@click.argument("query", nargs=-1)
@limit_option
@before_option
@json_option
def history_cmd(query: tuple[str, ...], limit: int, before: str | None, as_json: bool) -> None:
    """Search every hotfix ever made, newest first, with the console's search syntax.

    \b
    Free words match title, documentation, branch and version (every word, as a prefix);
    "quoted words" match as one phrase. Filters:
      state:deployed   author:alice (by:)   env:production   inc:INC-3 (incident:)
      after:2026-01-01 (since:)   before:2026-02-01 (until:)
    Example: hotfix history gift card state:finished after:2026-01-01
    """
    from ..core.workflow import parse_key
    from ..services.history import COUNT_CAP

    ctx = get_ctx()
    text = " ".join(query)
    before_id = parse_key(before, "HF") if before is not None else None
    page = services.history_page(ctx, text, before_id, limit or None, count=True,
                                 approvals=True)
    total = min(page.total, COUNT_CAP)
    hint = ["history", *query]
    if limit != DEFAULT_LIMIT:
        hint += ["--limit", str(limit)]
    _page_out(page, as_json, ctx.config.approvals.required, hint, query=text,
              total=total, total_capped=page.total > COUNT_CAP)
    if not as_json and page.rows:
        more = "+" if page.total > COUNT_CAP else ""
        err(f"{total}{more} match{'es' if total != 1 else ''}")


@click.command("show")
@click.argument("key", shell_complete=complete_hotfix)
@json_option
def show_cmd(key: str, as_json: bool) -> None:
    """One hotfix, with its approvals and checklist."""
    ctx = get_ctx()
    hf = services.show(ctx, key)
    if as_json:
        emit(hf.to_json())
    else:
        out(hotfix_text(hf, ctx.config.approvals.required))


def _use_colour(mode: str) -> bool:
    if mode == "always":
        return True
    if mode == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


@click.command("diff")
@click.argument("key", shell_complete=complete_hotfix)
@click.option("--stat", is_flag=True, help="Files with their changed lines, not the diff.")
@click.option("--color", "colour", type=click.Choice(["auto", "always", "never"]),
              default="auto", show_default=True,
              help="auto: colour on a terminal, plain in a pipe or with $NO_COLOR.")
def diff_cmd(key: str, stat: bool, colour: str) -> None:
    """The hotfix's diff: its base release to its head (what it changes)."""
    from .diff_text import diff_lines, stat_lines

    ctx = get_ctx()
    colour_on = _use_colour(colour)
    if stat:
        lines = stat_lines(services.scope(ctx, key))
    else:
        lines = diff_lines(services.views.diff_for(ctx, key))
    for line in lines:  # made safe line by line (diff_text); the colour is ours
        click.echo(line, color=colour_on)


def register(root: click.Group) -> None:
    for cmd in (list_cmd, history_cmd, show_cmd, diff_cmd):
        root.add_command(cmd)
