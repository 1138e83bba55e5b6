"""`hotfix list` and `hotfix show`."""

from __future__ import annotations

import click

from .. import services
from ..core.models import EnvVerification, Hotfix, HotfixState, VerificationState, actor_label
from .common import dump_json, get_ctx, json_option, out, safe, table


def approvals_summary(hf: Hotfix, required: int) -> str:
    from ..core.approval import valid_approvers

    return f"{len(valid_approvers(hf.approvals))}/{required}"


def approval_lines(hf: Hotfix) -> list[str]:
    """One line per approval: who (and the account behind an override), what, whether it
    counts and why not."""
    out = []
    for a in hf.approvals:
        who = actor_label(a.approver, a.approver_verified, a.approver_account)
        what = a.decision + (" after the fact" if a.retroactive else "")
        state = "counts" if a.counts else f"does not count: {a.not_counted}"
        out.append(f"    {safe(who)}  {what} at {a.sha[:10]}  {safe(state)}")
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


@click.command("list")
@click.option("--state", type=click.Choice([str(s) for s in HotfixState]), default=None)
@click.option("--incident", default=None, help="Only hotfixes of this incident.")
@json_option
def list_cmd(state: str | None, incident: str | None, as_json: bool) -> None:
    """List hotfixes."""
    ctx = get_ctx()
    items = services.list_hotfixes(ctx, state=state, incident=incident)
    if as_json:
        dump_json([h.to_json() for h in items])
        return
    if not items:
        out("no hotfixes")
        return
    req = ctx.config.approvals.required
    out(table(
        ["key", "incident", "state", "version", "author", "appr", "title"],
        [[h.key, h.incident, str(h.state), h.version, actor_label(h.author, h.author_verified),
          approvals_summary(h, req), h.title] for h in items],
    ))


@click.command("show")
@click.argument("key")
@json_option
def show_cmd(key: str, as_json: bool) -> None:
    """One hotfix, with its approvals and checklist."""
    ctx = get_ctx()
    hf = services.show(ctx, key)
    if as_json:
        dump_json(hf.to_json())
    else:
        out(hotfix_text(hf, ctx.config.approvals.required))


def register(root: click.Group) -> None:
    root.add_command(list_cmd)
    root.add_command(show_cmd)
