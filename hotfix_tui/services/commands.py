"""The git commands this process runs, for the console's command log (`@`)."""

from __future__ import annotations

from collections.abc import Callable

from .. import gitops
from ..gitops import CommandRecord


def observe_commands(callback: Callable[[CommandRecord], None]) -> Callable[[], None]:
    """Call `callback` with every git command this process runs (argv, cwd, exit status,
    seconds), until the returned function is called."""
    return gitops.observe(callback)
