"""Shared pieces of the command line: context, output, parameter types."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..core.models import RunStatus, Severity
from ..core.sanitize import json_text, visible

# The JSON contract (docs/schema/): every document printed by --json carries the version
# of its schema. A breaking change to a document bumps its version.
SCHEMA_VERSION = 1

# Exit codes (README, "Exit codes"). Commands that wait for a run end with its outcome.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
RUN_EXIT_CODES = {
    RunStatus.SUCCEEDED: 0,
    RunStatus.FAILED: 3,
    RunStatus.CANCELLED: 4,
    RunStatus.TIMED_OUT: 5,
    RunStatus.INTERRUPTED: 6,
}


class CommandExit(Exception):
    """Leave with an exit code after output was already written."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def get_ctx(click_ctx: click.Context | None = None, *, create_db: bool = False,
            one_connection: bool = True):
    """The services context for this invocation (built once, warnings printed once).
    `create_db`: this command may create a database named by --db, $HOTFIX_DB or
    [store] path (only `hotfix init` does). `one_connection`: the command opens SQLite
    once, whatever it reads and writes (not the console: its workers are threads)."""
    from ..services import open_context

    click_ctx = click_ctx or click.get_current_context()
    root = click_ctx.find_root()
    obj = root.ensure_object(dict)
    if "services" not in obj:
        ctx = open_context(obj.get("repo"), obj.get("db"), create_db=create_db)
        ctx.one_connection = one_connection
        for w in ctx.warnings:
            warn(w)
        ctx.on_warning = warn
        obj["services"] = ctx
        root.call_on_close(lambda: _done(ctx))
    return obj["services"]


def _done(ctx) -> None:
    """When the command is done, whatever it did or failed to do: hand the events it (or
    anyone before it) committed to their hooks (never waits for a hook, never fails),
    push them with [sync] auto (a detached sync, never waited for), then close its
    connection."""
    try:
        if ctx.config.hooks.commands:  # no hooks, nothing to hand over (and nothing to load)
            from ..services import deliver_hooks

            deliver_hooks(ctx)
        if ctx.config.sync.auto:  # no shared history to push to, nothing to load
            from ..services import sync_later

            sync_later(ctx)
    finally:
        ctx.close()


class Written:
    """Whether this invocation already wrote a document to stdout (then an error that
    follows is not a second document)."""

    wrote = False


# Every line the command line prints goes through out(), warn(), err() or dump_json():
# whatever a value held (a commit subject, a file name, an older record), no character
# a terminal obeys or a reader cannot see reaches the terminal (core.sanitize).

def dump_json(value: Any, pretty: bool | None = None) -> None:
    """Print one JSON document. By default indented on a terminal, for a person to read,
    and on one line into a pipe or a file, where a program reads it (as `gh` does; json's
    C encoder writes that several times faster than an indented document)."""
    Written.wrote = True
    click.echo(json_text(value, indent=json_indent(pretty)))


def json_indent(pretty: bool | None = None) -> int | None:
    """2 (indented) on a terminal or when `pretty`; None (one line) otherwise."""
    if pretty is None:
        try:
            pretty = sys.stdout.isatty()
        except (AttributeError, ValueError):  # closed, or replaced by one without isatty
            pretty = False
    return 2 if pretty else None


def emit(doc: dict[str, Any], version: int = SCHEMA_VERSION) -> None:
    """Print one JSON document: `doc` with its schema_version first."""
    dump_json({"schema_version": version, **doc})


def emit_items(items: list[Any], **extra: Any) -> None:
    """Print a collection document: {schema_version, items, …}."""
    emit({"items": items, **extra})


def emit_line(doc: dict[str, Any]) -> None:
    """One document of a JSON Lines stream (`hotfix log --follow --json`)."""
    dump_json({"schema_version": SCHEMA_VERSION, **doc}, pretty=False)


def out(text: str = "", nl: bool = True) -> None:
    click.echo(visible(text), nl=nl)


def warn(text: str) -> None:
    err(f"warning: {text}")


def err(text: str) -> None:
    """One line on standard error."""
    click.echo(visible(text, keep=""), err=True)


def safe(text: str | None) -> str:
    """Stored text made harmless for a terminal (kept for table cells and f-strings;
    out() applies the same rule to everything it prints)."""
    return visible(text)


def table(headers: list[str], rows: list[list[str]]) -> str:
    cells = [[safe(str(c)).replace("\n", " ") for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    lines = ["  ".join(h.upper().ljust(widths[i]) for i, h in enumerate(headers)).rstrip()]
    for row in cells:
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip())
    return "\n".join(lines)


class SeverityType(click.ParamType):
    """1-4, or SEV1-SEV4 (SEV1 is the worst)."""

    name = "severity"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            n = value
        else:
            text = str(value).strip().upper()
            text = text[3:] if text.startswith("SEV") else text
            if not text.isdigit():
                self.fail(f"{value!r} is not a severity (1-4 or SEV1-SEV4)", param, ctx)
            n = int(text)
        if not Severity.MIN <= n <= Severity.MAX:
            self.fail(f"{value!r} is out of range: severity is 1-4 (SEV1 is the worst)",
                      param, ctx)
        return n


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


def exit_code(code: int) -> None:
    sys.stdout.flush()
    raise CommandExit(code)
