"""`hotfix completion SHELL`: the shell completion script, through click's own mechanism.
What each argument completes to is in completers.py."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_HOTFIX_COMPLETE"


def script(root: click.Command, shell: str) -> str:
    """The completion script click generates for `shell`, for the command tree `root`."""
    cls = get_completion_class(shell)
    if cls is None:  # click knows no such shell
        raise click.BadParameter(f"{shell!r} (choose from {', '.join(SHELLS)})")
    return cls(root, {}, "hotfix", COMPLETE_VAR).source()


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion_cmd(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    \b
    bash:  eval "$(hotfix completion bash)"      # in ~/.bashrc
    zsh:   eval "$(hotfix completion zsh)"       # in ~/.zshrc, after compinit
    fish:  hotfix completion fish > ~/.config/fish/completions/hotfix.fish
    """
    click.echo(script(ctx.find_root().command, shell), nl=False)


def register(root: click.Group) -> None:
    root.add_command(completion_cmd)
