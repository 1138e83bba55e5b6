"""`hotfix audit verify`"""

from __future__ import annotations

import click

from .. import services
from .common import emit, exit_code, get_ctx, json_option, out


@click.group("audit")
def audit() -> None:
    """The hash-chained audit trail."""


@audit.command("verify")
@json_option
def verify_cmd(as_json: bool) -> None:
    """Recompute the chain; name the first bad event and exit 1 if it is broken."""
    result = services.verify_audit(get_ctx())
    if as_json:
        emit(result.to_json())
    elif result.ok:
        out(f"ok: {result.events} events")
    else:
        click.echo(
            f"error: audit chain broken at event {result.bad_id}: {result.problem} "
            f"({result.events} events before it verify)",
            err=True,
        )
    if not result.ok:
        exit_code(1)


def register(root: click.Group) -> None:
    root.add_command(audit)
