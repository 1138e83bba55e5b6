"""`hotfix audit verify`"""

from __future__ import annotations

import click

from .. import services
from .common import emit, emit_items, err, exit_code, get_ctx, json_option, out, safe


@click.group("audit")
def audit() -> None:
    """The hash-chained audit trail."""


@audit.command("verify")
@json_option
def verify_cmd(as_json: bool) -> None:
    """Recompute the chain, check its head against the repository's anchor and every
    record against the chain, verify every signature again; list each problem and exit 1
    if there is one."""
    result = services.verify_audit(get_ctx())
    if as_json:
        emit(result.to_json())
    elif result.ok:
        extra = (f"; {result.unanchored} newer not anchored yet"
                 if result.unanchored and result.anchor else "")
        out(f"ok: {result.events} events, {result.anchored}{extra}{_signed(result.signatures)}")
    else:
        for p in result.problems:
            out(f"- {p}")
        more = len(result.problems) - 1
        err(f"error: the audit trail does not verify: {result.problem}"
            + (f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""))
    if not result.ok:
        exit_code(1)


@audit.command("log")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=None,
              help="At most this many events (the oldest first).")
@json_option
def log_cmd(limit: int | None, as_json: bool) -> None:
    """Every event of every bastion (hotfix sync), in the one order every bastion shows
    them: by time, then site, then place in the site's chain."""
    items = services.merged_history(get_ctx(), limit)
    if as_json:
        emit_items([{"at": e["at"], "site": e["site"], "seq": e["seq"],
                     "action": e["action"], "key": e["entity_key"], "actor": e["actor"],
                     "hash": e["site_hash"]} for e in items])
        return
    for e in items:
        out(f"{e['at'][:19].replace('T', ' ')}  {safe(e['site'])}#{e['seq']}  "
            f"{safe(e['action'])}  {safe(e['entity_key'])}  by {safe(e['actor'])}")


def _signed(sigs) -> str:
    if sigs is None or not (sigs.checked or sigs.unsigned or sigs.unverified):
        return ""
    return (f"; {sigs.valid} signature{'s' if sigs.valid != 1 else ''} verified, "
            f"{sigs.unsigned} unsigned decision{'s' if sigs.unsigned != 1 else ''}"
            + (f", {sigs.unverified} not verifiable here (no repository)"
               if sigs.unverified else ""))


def register(root: click.Group) -> None:
    root.add_command(audit)
