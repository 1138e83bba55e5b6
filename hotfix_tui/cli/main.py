"""The root command and the error boundary: one line `error: …`, never a traceback
(unless HOTFIX_DEBUG=1). With --json, an error is also one JSON document on stdout."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys

import click

from .. import __version__
from ..core import errors
from ..core.errors import HotfixError, PolicyRefusal, UnknownKey
from ..core.sanitize import json_text
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    SCHEMA_VERSION,
    CommandExit,
    Written,
    json_indent,
)
from .where import located

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
    "hotfix_cmd": ("diff", "history", "list", "show"),
    "serve_cmd": ("serve",),
    "tui_cmd": ("tui",),
    "completion_cmd": ("completion",),
    "signature_cmd": ("verify-record",),
    "sync_cmd": ("sync",),
}
MODULE_OF = {name: module for module, names in COMMANDS.items() for name in names}


class LazyGroup(click.Group):
    """The root group: each command's module is imported on first use (click's lazy
    subcommands); the module's register() adds its commands. An `unknown …` error gets
    where the key was looked for (repository and database): the usual cause is running in
    the wrong directory."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(MODULE_OF) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in MODULE_OF:
            module = importlib.import_module(f"{__package__}.{MODULE_OF[cmd_name]}")
            module.register(self)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UnknownKey as exc:
            raise located(exc, (ctx.obj or {}).get("services")) from None


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


def _wants_json(argv: list[str]) -> bool:
    args = argv[: argv.index("--")] if "--" in argv else argv
    return "--json" in args


# The error document's `type` (docs/schema/error.json), most specific class first.
_ERROR_TYPES = ((click.UsageError, "usage"), (KeyboardInterrupt, "interrupted"),
                (click.Abort, "interrupted"), (errors.UnknownKey, "unknown_key"),
                (errors.NotFound, "not_found"), (errors.PolicyRefusal, "refused"),
                (errors.IllegalTransition, "illegal_transition"),
                (errors.ValidationError, "invalid"), (errors.ConfigError, "config"),
                (errors.StoreError, "store"), (errors.GitError, "git"),
                (errors.HotfixError, "failed"))


def _error_type(exc: BaseException) -> str:
    return next((name for cls, name in _ERROR_TYPES if isinstance(exc, cls)), "internal")


def _error_doc(exc: BaseException, message: str, code: int) -> None:
    """With --json and nothing printed yet: the error as a document on stdout too."""
    if Written.wrote:
        return
    where = getattr(exc, "where", None) or {}
    doc = {"schema_version": SCHEMA_VERSION, "error": {
        "type": _error_type(exc),
        "message": message,
        "exit_code": code,
        "reasons": list(exc.reasons) if isinstance(exc, PolicyRefusal) else None,
        "repository": where.get("repository"),
        "database": where.get("database"),
    }}
    with contextlib.suppress(OSError, ValueError):
        click.echo(json_text(doc, indent=json_indent()))


def _failure(exc: BaseException) -> tuple[str, int]:
    """The one-line message and exit code for what ended the command."""
    if isinstance(exc, click.UsageError):
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        return f"{_one_line(exc.format_message())}{hint}", EXIT_USAGE
    if isinstance(exc, click.ClickException):
        return _one_line(exc.format_message()), exc.exit_code or EXIT_FAILED
    if isinstance(exc, click.Abort):
        return "aborted", EXIT_INTERRUPTED
    if isinstance(exc, HotfixError):
        return _one_line(exc.message), exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", EXIT_INTERRUPTED
    return (f"internal error: {type(exc).__name__}: {_one_line(str(exc))} "
            "(set HOTFIX_DEBUG=1 for details)"), EXIT_FAILED


def main(argv: list[str] | None = None) -> None:
    debug = os.environ.get("HOTFIX_DEBUG") == "1"
    args = list(sys.argv[1:] if argv is None else argv)
    Written.wrote = False
    code = 0
    try:
        result = cli.main(args=args, prog_name="hotfix", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except CommandExit as exc:
        code = exc.code
    except BrokenPipeError:
        # The reader went away (hotfix list | head); not an error worth a message.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        code = EXIT_FAILED
    except (Exception, KeyboardInterrupt) as exc:
        if debug and not isinstance(exc, (click.ClickException, click.Abort,
                                          KeyboardInterrupt)):
            raise
        message, code = _failure(exc)
        click.echo(f"error: {message}", err=True)
        if _wants_json(args):
            _error_doc(exc, message, code)
    _say_notices()
    sys.exit(code)


def _say_notices() -> None:
    if "hotfix_tui.services.context" not in sys.modules:
        return  # no command got as far as the services
    from ..services.context import take_notices

    with contextlib.suppress(OSError):
        for note in take_notices():
            click.echo(f"note: {note}", err=True)
