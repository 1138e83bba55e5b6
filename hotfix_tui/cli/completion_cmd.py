"""Shell completion through click's own mechanism, and `hotfix completion SHELL`.

Keys (INC-n, HF-n, D-n) and environment names complete from the database and
.hotfix.toml of the repository the command line names (--repo, --db) or the current one.
"""

from __future__ import annotations

import click
from click.shell_completion import CompletionItem, get_completion_class

from .common import safe

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_HOTFIX_COMPLETE"


def _where(ctx: click.Context) -> tuple[str | None, str | None]:
    params = ctx.find_root().params
    return params.get("repo"), params.get("db")


def _keys(kind: str, only: str | None = None):
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str):
        from ..services import completion

        repo, db = _where(ctx)
        return [CompletionItem(key, help=safe(text).replace("\n", " ")[:80])
                for key, text in completion.keys(kind, incomplete, repo, db, only)]

    return complete


def complete_env(ctx: click.Context, param: click.Parameter, incomplete: str):
    from ..services import completion

    repo, _ = _where(ctx)
    return [CompletionItem(name) for name in completion.environments(incomplete, repo)]


complete_hotfix = _keys("hotfix")
complete_active_hotfix = _keys("hotfix", "active")
complete_incident = _keys("incident")
complete_open_incident = _keys("incident", "open")
complete_run = _keys("run")
complete_running = _keys("run", "running")


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
