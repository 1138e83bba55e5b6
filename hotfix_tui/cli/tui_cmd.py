"""`hotfix tui [--readonly]` (also what `hotfix` alone runs)."""

from __future__ import annotations

import click

from .common import get_ctx


def build_app(click_ctx: click.Context, readonly: bool):
    """The console, or a screen that says why it cannot open (never a traceback)."""
    from .. import services
    from ..core.errors import HotfixError

    try:
        ctx = get_ctx(click_ctx, one_connection=False)
        services.probe_store(ctx)  # a foreign, newer or missing-but-named file: say so
    except HotfixError as exc:
        from ..tui.problem import ProblemApp, hint_for

        return ProblemApp(str(exc), hint_for(str(exc)))
    from ..tui.app import HotfixApp

    return HotfixApp(ctx, readonly=readonly)


def run_tui(click_ctx: click.Context, readonly: bool) -> None:
    build_app(click_ctx, readonly).run()


@click.command("tui")
@click.option("--readonly", is_flag=True, help="Browse only: every change is disabled.")
@click.pass_context
def tui_cmd(ctx: click.Context, readonly: bool) -> None:
    """Open the console."""
    run_tui(ctx, readonly)


def register(root: click.Group) -> None:
    root.add_command(tui_cmd)
