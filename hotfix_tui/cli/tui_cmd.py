"""`hotfix tui [--readonly]` (also what `hotfix` alone runs)."""

from __future__ import annotations

import click

from .common import get_ctx


def run_tui(click_ctx: click.Context, readonly: bool) -> None:
    ctx = get_ctx(click_ctx)
    from ..tui.app import HotfixApp

    HotfixApp(ctx, readonly=readonly).run()


@click.command("tui")
@click.option("--readonly", is_flag=True, help="Browse only: every change is disabled.")
@click.pass_context
def tui_cmd(ctx: click.Context, readonly: bool) -> None:
    """Open the console."""
    run_tui(ctx, readonly)


def register(root: click.Group) -> None:
    root.add_command(tui_cmd)
