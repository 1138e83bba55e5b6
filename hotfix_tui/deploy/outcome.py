"""How a run's command ended, in words and numbers, and why the store refused a write."""

from __future__ import annotations

import signal
import sqlite3

from ..core.models import RunStatus


def signal_text(n: int) -> str:
    try:
        return f"signal {n} ({signal.Signals(n).name})"
    except ValueError:
        return f"signal {n}"


def outcome_text(returncode: int | None) -> str:
    if returncode is None:
        return "exit status unknown"
    if returncode < 0:
        return f"killed by {signal_text(-returncode)}"
    return f"exit {returncode}"


def codes(returncode: int | None) -> tuple[int | None, int | None]:
    """(exit code, signal number) of a Popen return code."""
    if returncode is None:
        return None, None
    return (returncode, None) if returncode >= 0 else (None, -returncode)


# How a run that was being stopped ends, by why it was stopped.
STOPPED_AS = {"cancel": RunStatus.CANCELLED, "timeout": RunStatus.TIMED_OUT,
              "signal": RunStatus.CANCELLED, "lost": RunStatus.FAILED}


def store_full(exc: BaseException) -> str | None:
    """SQLite's own words when a write failed for lack of room (SQLITE_FULL: the disk,
    or the database's size limit), else None."""
    for e in (exc, exc.__cause__):
        if isinstance(e, sqlite3.Error) and getattr(e, "sqlite_errorcode", None) == \
                sqlite3.SQLITE_FULL:
            return str(e)
    return "database or disk is full" if "database or disk is full" in str(exc) else None
