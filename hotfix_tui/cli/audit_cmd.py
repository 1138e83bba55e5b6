"""`hotfix audit verify`"""

from __future__ import annotations

import click

from .. import services
from .common import dump_json, exit_code, get_ctx, json_option, out, safe


@click.group("audit")
def audit() -> None:
    """The hash-chained audit trail."""


@audit.command("verify")
@json_option
def verify_cmd(as_json: bool) -> None:
    """Recompute the chain and re-verify every signature; name the first bad event and
    each bad signature, and exit 1 if there is one."""
    report = services.verify_audit(get_ctx())
    result, sigs = report.chain, report.signatures
    if as_json:
        dump_json(report.to_json())
    elif report.ok:
        out(f"ok: {result.events} events" + _signed(sigs))
    else:
        for bad in sigs.bad:
            out(f"bad signature: {bad.hotfix} {safe(bad.approver)} {bad.decision} at "
                f"{bad.at}: {safe(bad.reason)}")
        problems = []
        if not result.ok:
            problems.append(f"audit chain broken at event {result.bad_id}: {result.problem} "
                            f"({result.events} events before it verify)")
        if sigs.bad:
            problems.append(f"{len(sigs.bad)} bad signature{'s' if len(sigs.bad) != 1 else ''}"
                            f" ({', '.join(f'{b.hotfix} {b.approver}' for b in sigs.bad)})")
        click.echo(f"error: {safe('; '.join(problems))}", err=True)
    if not report.ok:
        exit_code(1)


def _signed(sigs) -> str:
    if not sigs.checked and not sigs.unsigned:
        return ""
    return (f"; {sigs.valid} signature{'s' if sigs.valid != 1 else ''} verified, "
            f"{sigs.unsigned} unsigned decision{'s' if sigs.unsigned != 1 else ''}")


def register(root: click.Group) -> None:
    root.add_command(audit)
