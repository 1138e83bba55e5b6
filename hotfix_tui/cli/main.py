"""The root command and the error boundary: one line `error: …`, never a traceback
(unless HOTFIX_DEBUG=1)."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys

import click

from .. import __version__
from ..core.errors import HotfixError
from .common import CommandExit

# Which module defines each command. A command's module is imported only when that
# command runs (or `--help` lists them all): `hotfix list --json` loads the code of
# `list`, not of `deploy`, `finish` or the console. tests/unit/test_cli_startup.py checks
# that this table and the modules' register() agree.
COMMANDS = {
    "work_cmd": ("abandon", "approve", "check", "checklist", "edit", "init", "pick", "queue",
                 "reject", "scope", "start", "submit", "worktree"),
    "deploy_cmd": ("adopt", "cancel", "deploy", "deploys", "lock", "log", "rollback",
                   "status", "unlock", "verify"),
    "audit_cmd": ("audit",),
    "demo_cmd": ("demo",),
    "doctor_cmd": ("doctor",),
    "release_cmd": ("export", "finish", "missing", "timeline"),
    "events_cmd": ("hooks", "watch"),
    "incident_cmd": ("incident",),
    "hotfix_cmd": ("list", "show"),
    "serve_cmd": ("serve",),
    "tui_cmd": ("tui",),
}
MODULE_OF = {name: module for module, names in COMMANDS.items() for name in names}


class LazyGroup(click.Group):
    """The root group: each command's module is imported on first use (click's lazy
    subcommands); the module's register() adds its commands."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(MODULE_OF) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in MODULE_OF:
            module = importlib.import_module(f"{__package__}.{MODULE_OF[cmd_name]}")
            module.register(self)
        return self.commands.get(cmd_name)


@click.group(cls=LazyGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db", type=click.Path(dir_okay=False), default=None,
              help="Database file (default: $HOTFIX_DB, [store] path, "
              "or <git dir>/hotfix/hotfix.db).")
@click.option("--repo", "repo", type=click.Path(file_okay=False), default=None,
              help="Repository to work on (default: the one containing the current directory).")
@click.version_option(__version__, prog_name="hotfix")
@click.pass_context
def cli(ctx: click.Context, db: str | None, repo: str | None) -> None:
    """hotfix-tui: run hotfixes during production incidents.

    With no command, opens the console on the current repository.
    """
    obj = ctx.ensure_object(dict)
    obj["db"] = db
    obj["repo"] = repo
    if ctx.invoked_subcommand is None:
        from .tui_cmd import run_tui

        run_tui(ctx, readonly=False)


def _one_line(text: str) -> str:
    from ..core.sanitize import one_line

    return one_line(" ".join(str(text).split()))


def main(argv: list[str] | None = None) -> None:
    debug = os.environ.get("HOTFIX_DEBUG") == "1"
    code = 0
    try:
        result = cli.main(args=argv, prog_name="hotfix", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except CommandExit as exc:
        code = exc.code
    except click.UsageError as exc:
        hint = ""
        if exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        click.echo(f"error: {_one_line(exc.format_message())}{hint}", err=True)
        code = 2
    except click.ClickException as exc:
        click.echo(f"error: {_one_line(exc.format_message())}", err=True)
        code = exc.exit_code or 1
    except click.Abort:
        click.echo("error: aborted", err=True)
        code = 130
    except HotfixError as exc:
        if debug:
            raise
        click.echo(f"error: {_one_line(exc.message)}", err=True)
        code = exc.exit_code
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        code = 130
    except BrokenPipeError:
        # The reader went away (hotfix list | head); not an error worth a message.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        code = 1
    except Exception as exc:  # the last line of defence: still one line
        if debug:
            raise
        click.echo(
            f"error: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
            "(set HOTFIX_DEBUG=1 for details)",
            err=True,
        )
        code = 1
    _say_notices()
    sys.exit(code)


def _say_notices() -> None:
    if "hotfix_tui.services.context" not in sys.modules:
        return  # no command got as far as the services
    from ..services.context import take_notices

    with contextlib.suppress(OSError):
        for note in take_notices():
            click.echo(f"note: {note}", err=True)
