"""The root command and the error boundary: one line `error: …`, never a traceback
(unless HOTFIX_DEBUG=1)."""

from __future__ import annotations

import contextlib
import os
import sys

import click

from .. import __version__
from ..core.errors import HotfixError
from .common import CommandExit


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
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


def _register() -> None:
    from . import (
        audit_cmd,
        demo_cmd,
        deploy_cmd,
        doctor_cmd,
        events_cmd,
        hotfix_cmd,
        incident_cmd,
        release_cmd,
        serve_cmd,
        tui_cmd,
        work_cmd,
    )

    for module in (incident_cmd, hotfix_cmd, work_cmd, deploy_cmd, release_cmd, audit_cmd,
                   events_cmd, demo_cmd, tui_cmd, doctor_cmd, serve_cmd):
        module.register(cli)


_register()


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
