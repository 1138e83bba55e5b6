"""Running one hook command: the event on stdin, a timeout, the first lines of stderr."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from ..core.timeline import one_line

STDERR_KEEP = 8192  # bytes of stderr read into memory; the rest is read and dropped
STDERR_LINES = 5
LINE_CHARS = 300
KILL_GRACE = 1.0  # seconds between SIGTERM and SIGKILL when a hook overruns


@dataclass(frozen=True)
class Outcome:
    """How one hook run ended."""

    status: str  # succeeded | failed | timed_out
    exit_code: int | None
    signal: int | None
    duration_ms: int
    stderr: str
    error: str = ""


def run_hook(argv: list[str], cwd: str, payload: bytes, env: dict[str, str],
             timeout_s: float) -> Outcome:
    """Run `argv` in its own session with `payload` on stdin; stop its process group
    (SIGTERM, then SIGKILL) once it overruns `timeout_s`."""
    start = time.monotonic()

    def failed(error: str) -> Outcome:
        return Outcome("failed", None, None, _ms(start), "", error)

    if not os.path.isdir(cwd):
        return failed(f"working directory {cwd} does not exist")
    proc = _start(argv, cwd, env)
    if isinstance(proc, str):
        return failed(proc)
    kept = bytearray()
    threads = [threading.Thread(target=_feed, args=(proc.stdin, payload), daemon=True),
               threading.Thread(target=_drain, args=(proc.stderr, kept), daemon=True)]
    for t in threads:
        t.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        _stop(proc)
    for t in threads:
        t.join(timeout=1.0)  # a background child may hold stderr open; do not wait on it
    rc = proc.returncode
    sig = -rc if rc is not None and rc < 0 else None
    code = rc if rc is not None and rc >= 0 else None
    status = "timed_out" if timed_out else ("succeeded" if rc == 0 else "failed")
    error = f"killed after the timeout of {timeout_s:g}s" if timed_out else ""
    return Outcome(status, code, sig, _ms(start), stderr_head(bytes(kept)), error)


def _start(argv: list[str], cwd: str, env: dict[str, str]) -> subprocess.Popen | str:
    """The hook's process, in a session of its own; or why it could not start."""
    try:
        return subprocess.Popen(argv, cwd=cwd, env={**os.environ, **env},
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, close_fds=True, start_new_session=True)
    except FileNotFoundError:
        return f"command not found: {one_line(argv[0])}"
    except PermissionError:
        return f"not executable: {one_line(argv[0])}"
    except OSError as exc:
        return f"cannot start {one_line(argv[0])}: {exc.strerror or exc}"


def _ms(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


def _feed(pipe, payload: bytes) -> None:
    with contextlib.suppress(OSError):  # a hook need not read its stdin
        pipe.write(payload)
    with contextlib.suppress(OSError):
        pipe.close()


def _drain(pipe, kept: bytearray) -> None:
    with contextlib.suppress(OSError, ValueError):
        while True:
            chunk = pipe.read1(65536)
            if not chunk:
                break
            if len(kept) < STDERR_KEEP:
                kept.extend(chunk[:STDERR_KEEP - len(kept)])
    with contextlib.suppress(OSError):
        pipe.close()


def _stop(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever of its group is left


def stderr_head(raw: bytes) -> str:
    """The first lines of a hook's stderr, each one line without control characters."""
    text = raw.decode("utf-8", errors="replace")
    lines = [one_line(ln).strip() for ln in text.splitlines()]
    lines = [ln[:LINE_CHARS] for ln in lines if ln][:STDERR_LINES]
    return "\n".join(lines)
