"""A program in a real terminal, driven and read from outside: tmux at 80x24.

Each program runs in its own tmux session of a private tmux server (its socket in the
benchmark's own folder). One tmux control-mode client (`tmux -C`) talks to that server:
keys go in as `send-keys` commands written to its stdin (no process started per key),
the program's output comes back as `%output` notifications the moment tmux reads it
from the pane, and the screen is read with `capture-pane`, i.e. exactly what tmux, the
terminal, shows.

A key's effect is timed from just before its `send-keys` is written to the arrival of
the output after which the screen shows the effect: after each piece of output the
screen is captured, and a capture reflects everything tmux read before it ran, so the
output credited is the last that arrived before the capture's reply began. (tmux 3.3
does not answer Textual's query for synchronized output, so frames carry no marks;
Textual writes each frame in one write, which tmux reads in one or a few pieces.)
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

_OCTAL = re.compile(rb"\\([0-7]{3})")


def _unescape(data: bytes) -> bytes:
    """%output escapes bytes below 32 and the backslash as \\ooo."""
    return _OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), data)


class Timeout(Exception):
    pass


class Tmux:
    """A private tmux server and one control-mode client attached to it."""

    def __init__(self, folder: Path, size: tuple[int, int] = (80, 24)) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.socket = str(folder / "tmux.sock")
        self.size = size
        self._run("-f", "/dev/null", "new-session", "-d", "-s", "idle", "-x", str(size[0]),
                  "-y", str(size[1]), "sleep", "100000")
        for option in (("remain-on-exit", "on"),
                       ("status", "off"), ("default-terminal", "screen-256color")):
            self._run("set-option", "-g", *option)
        self._client = subprocess.Popen(
            ["tmux", "-S", self.socket, "-C", "attach-session", "-t", "idle"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self._replies: queue.Queue[tuple[float, list[bytes], bool]] = queue.Queue()
        self._lock = threading.Lock()
        self.frame_ends: dict[str, float] = {}  # pane id → arrival of its last output
        self.frames: dict[str, int] = {}
        self.output_bytes: dict[str, int] = {}
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + 10
        while True:  # the size of every window of the session is the client's size
            with contextlib.suppress(RuntimeError):
                lines, _ = self.command("refresh-client", "-C", f"{size[0]}x{size[1]}")
                break
            if time.monotonic() > deadline:
                raise Timeout("tmux control client did not attach")
            time.sleep(0.05)

    def _run(self, *args: str) -> str:
        proc = subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True,
                              text=True, timeout=30)
        if proc.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    # -- the control client ---------------------------------------------------------
    def _read(self) -> None:
        block: list[bytes] | None = None
        block_at = 0.0
        stream = self._client.stdout
        assert stream is not None
        for raw in iter(stream.readline, b""):
            now = time.perf_counter()
            line = raw.rstrip(b"\n")
            if block is not None:
                if line.startswith((b"%end ", b"%error ")):
                    self._replies.put((block_at, block, line.startswith(b"%end ")))
                    block = None
                else:
                    block.append(line)
                continue
            if line.startswith(b"%output ") and b" " in line[8:]:
                _, pane, data = line.split(b" ", 2)
                data = _unescape(data)
                key = pane.decode()
                with self._cond:
                    self.output_bytes[key] = self.output_bytes.get(key, 0) + len(data)
                    self.frame_ends[key] = now
                    self.frames[key] = self.frames.get(key, 0) + 1
                    self._cond.notify_all()
            elif line.startswith(b"%begin ") and line.endswith(b" 1"):
                block, block_at = [], now  # flag 1: a reply to this client's command
                # what a command saw is what arrived before its reply began
                with self._cond:
                    self._snapshot = dict(self.frame_ends)

    def command(self, *args: str, timeout: float = 10) -> tuple[list[str], dict[str, float]]:
        """Run one tmux command through the control client: its output lines, and the
        arrival time of each pane's last frame end before the command ran."""
        text = " ".join(_quote(a) for a in args) + "\n"
        with self._lock:
            assert self._client.stdin is not None
            self._client.stdin.write(text.encode())
            try:
                _, lines, ok = self._replies.get(timeout=timeout)
            except queue.Empty as exc:
                raise Timeout(f"tmux did not answer {args[0]}") from exc
            seen = getattr(self, "_snapshot", {})
        if not ok:
            raise RuntimeError(f"tmux {args[0]}: {b' '.join(lines).decode(errors='replace')}")
        return [x.decode(errors="replace") for x in lines], seen

    def wait_frame(self, pane: str, after: int, timeout: float) -> bool:
        """Wait until pane `pane` has ended more than `after` frames."""
        deadline = time.perf_counter() + timeout
        with self._cond:
            while self.frames.get(pane, 0) <= after:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._run("kill-server")
        with contextlib.suppress(Exception):
            self._client.kill()
            self._client.wait(timeout=5)


def _quote(arg: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./:%=,+-]+", arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


class Pane:
    """One program in its own tmux session of `tmux`."""

    def __init__(self, tmux: Tmux, name: str, argv: list[str], env: dict[str, str],
                 cwd: Path) -> None:
        self.tmux = tmux
        self.name = name
        w, h = tmux.size
        env_args = [f"{k}={v}" for k, v in env.items()]
        # a window of the session the control client is attached to: tmux sends a
        # client %output only for the panes of its session
        lines, _ = tmux.command("new-window", "-d", "-P", "-F", "#{pane_id} #{pane_pid}",
                                "-t", "idle:", "-n", name, "-c", str(cwd),
                                "env", *env_args, *argv)
        self.pane, pid = lines[0].split()
        self.pid = int(pid)  # `env` execs the program: this is the program's pid

    def screen(self) -> tuple[str, float | None]:
        """The screen as tmux shows it, and when the last frame it includes arrived."""
        lines, seen = self.tmux.command("capture-pane", "-p", "-t", self.pane)
        return "\n".join(lines), seen.get(self.pane)

    def send(self, key: str) -> float:
        """Type one key (a tmux key name: `?`, `Escape`, `PageDown`, `j`): the time just
        before it was handed to tmux."""
        at = time.perf_counter()
        self.tmux.command("send-keys", "-t", self.pane, key)
        return at

    def wait_for(self, predicate: Callable[[str], bool], since: float,
                 timeout: float = 10.0) -> tuple[float, str]:
        """The arrival time of the end of the first frame, after `since`, that shows a
        screen for which `predicate` holds; and that screen."""
        deadline = time.perf_counter() + timeout
        while True:
            with self.tmux._cond:
                before = self.tmux.frames.get(self.pane, 0)
            text, frame_at = self.screen()
            if frame_at is not None and frame_at >= since and predicate(text):
                return frame_at, text
            left = deadline - time.perf_counter()
            if left <= 0 or not self.tmux.wait_frame(self.pane, before, left):
                raise Timeout(f"{self.name}: no frame showed the expected screen:\n{text}")

    def wait_settled(self, predicate: Callable[[str], bool], timeout: float = 60.0) -> str:
        """Wait (untimed) until the screen satisfies `predicate`."""
        deadline = time.perf_counter() + timeout
        while True:
            text, _ = self.screen()
            if predicate(text):
                return text
            if time.perf_counter() > deadline:
                raise Timeout(f"{self.name} never showed the expected screen:\n{text}")
            time.sleep(0.05)

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        return True
