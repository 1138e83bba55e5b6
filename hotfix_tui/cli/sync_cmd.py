"""`hotfix sync`"""

from __future__ import annotations

import click

from .. import services
from .common import emit, get_ctx, json_option, out, safe


@click.command("sync")
@click.option("--remote", "remote", default=None, metavar="NAME",
              help="The git remote that carries the shared history (default: [sync] remote, "
              "else origin).")
@click.option("--site", "site", default=None, metavar="NAME",
              help="This bastion's name in the shared history, on its first sync (default: "
              "$HOTFIX_SITE, else the host name).")
@json_option
def sync_cmd(remote: str | None, site: str | None, as_json: bool) -> None:
    """Fetch the shared hotfix history from the git remote, merge it into this database,
    and push this bastion's new events (docs/SYNC.md)."""
    result = services.sync_history(get_ctx(), remote=remote, site=site)
    if as_json:
        emit(result.to_json())
        return
    got = ", ".join(f"{n} from {safe(s)}" for s, n in sorted(result.received.items()) if n)
    joined = f" (joined as site {safe(result.site)}, slot {result.slot})" if result.joined \
        else ""
    out(f"synced with {safe(result.remote)} as {safe(result.site)}{joined}: "
        f"{got or 'nothing'} in, {result.sent} event{'s' if result.sent != 1 else ''} out"
        + ("" if result.pushed else " (nothing to push)"))
    for f in result.findings:
        out(f"- tamper evidence: {safe(f)} (hotfix audit verify)")


def register(root: click.Group) -> None:
    root.add_command(sync_cmd)
