"""Starting a program of ours as a process that outlives whoever started it.

`spawn_module()` runs `python -m MODULE ARGS…` in a new session through a short-lived
intermediate process, so closing the terminal, losing the SSH session or killing the
caller does not touch it and it never becomes the caller's zombie. Used for deploy
runners (deploy/launch.py) and hook workers (hooks/kick.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

_LAUNCH = (
    "import os, sys\n"
    "if os.fork() == 0:\n"
    "    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
    "os._exit(0)\n"
)


def spawn_module(module: str, *args: str, env: dict[str, str] | None = None) -> int:
    """Start `python -m module args…` fully detached; returns the intermediate's exit status.

    The intermediate (started in a new session) forks the program and exits at once; we
    reap the intermediate, and the program is re-parented to init. No file descriptor is
    inherited; stdin, stdout and stderr are /dev/null. `env` is added to the program's
    environment.
    """
    argv = [sys.executable, "-I", "-S", "-c", _LAUNCH, "-m", module, *args]
    proc = subprocess.Popen(
        argv,
        cwd=package_cwd(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        start_new_session=True,
        env={**os.environ, **env} if env else None,
    )
    return proc.wait()


def package_cwd() -> str:
    """Where `-m hotfix_tui…` resolves even when the package is not installed.

    The folder that holds the package, unless that is a site-packages folder
    (putting it first on sys.path could shadow the standard library): then /.
    """
    root = Path(__file__).resolve().parents[1]
    return "/" if root.name in ("site-packages", "dist-packages") else str(root)
