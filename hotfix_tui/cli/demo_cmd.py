"""`hotfix demo`: a realistic sandbox to try everything on."""

from __future__ import annotations

from pathlib import Path

import click

from .common import out


@click.command("demo")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="Where to create the sandbox (default: ~/.local/share/hotfix-tui/demo).")
@click.option("--force", is_flag=True, help="Replace an existing demo sandbox in --dir.")
@click.option("--reuse", is_flag=True, help="Open the existing sandbox instead of a fresh one.")
@click.option("--no-tui", is_flag=True, help="Create it and print what to try next.")
@click.pass_context
def demo_cmd(ctx: click.Context, directory: str | None, force: bool, reuse: bool,
             no_tui: bool) -> None:
    """Create the demo sandbox (a checkout service with an open SEV1) and open the console."""
    from ..demo import create_demo, next_steps

    repo = create_demo(Path(directory) if directory else None, force=force, reuse=reuse)
    if no_tui:
        out(next_steps(repo))
        return
    obj = ctx.find_root().ensure_object(dict)
    obj["repo"] = str(repo)
    obj["db"] = None
    from .tui_cmd import run_tui

    run_tui(ctx, readonly=False)


def register(root: click.Group) -> None:
    root.add_command(demo_cmd)
