"""`hotfix watch` and `hotfix hooks`: events as they happen, and what their hooks did."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys

import click

from .. import services
from .common import emit_items, get_ctx, json_option, out, safe, table
from .completers import complete_incident


def event_line(event) -> str:
    return f"{event.seq:>6}  {event.at}  {event.name:<20}  {safe(event.summary)}"


class _Stop(Exception):
    """SIGINT or SIGTERM: leave the loop and exit 0."""


def _raise_stop(signum, frame) -> None:
    raise _Stop()


@click.command("watch")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON document per line (NDJSON), as hooks read it.")
@click.option("--since", type=click.IntRange(min=0), default=None, metavar="SEQ",
              help="Start after event SEQ (0: from the first event); default: from now on.")
@click.option("--incident", default=None, metavar="KEY", help="Only this incident's events.",
              shell_complete=complete_incident)
def watch_cmd(as_json: bool, since: int | None, incident: str | None) -> None:
    """Print events as they are committed, one per line, until interrupted."""
    ctx = get_ctx()
    ctx.readonly = True  # a watcher only reads: it hands nothing to hooks, reaps no runs
    key = services.get_incident(ctx, incident).key if incident else None
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for event in services.watch_events(ctx, since, key):
            line = (json.dumps(event.to_json(), ensure_ascii=False) if as_json
                    else event_line(event))
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
    except (_Stop, KeyboardInterrupt):
        pass
    except BrokenPipeError:  # the reader went away (watch | head -1): we are done
        _silence_stdout()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush does not complain."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


@click.command("hooks")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="How many of the newest deliveries.")
@click.option("--failed", "problems", is_flag=True,
              help="Only deliveries that failed, timed out or were lost.")
@json_option
def hooks_cmd(limit: int, problems: bool, as_json: bool) -> None:
    """What each hook did with each event: status, exit code, time, first lines of stderr."""
    ctx = get_ctx()
    items = services.hook_deliveries(ctx, limit, problems)
    if as_json:
        emit_items([d.to_json() for d in items])
        return
    if not ctx.config.hooks.commands:
        click.echo("warning: no hooks are configured ([hooks] in .hotfix.toml)", err=True)
    if not items:
        out("no deliveries")
        return
    rows = []
    for d in items:
        code = f"signal {d.signal}" if d.signal else ("" if d.exit_code is None
                                                      else str(d.exit_code))
        took = "" if d.duration_ms is None else f"{d.duration_ms / 1000:.1f}s"
        note = d.error or (d.stderr.splitlines()[0] if d.stderr else "")
        rows.append([str(d.seq), d.event, d.hook, d.status, code, took, note])
    out(table(["seq", "event", "hook", "status", "exit", "took", "note"], rows))


def register(root: click.Group) -> None:
    root.add_command(watch_cmd)
    root.add_command(hooks_cmd)
