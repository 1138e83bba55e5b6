"""Starting a hook worker when something waits to be delivered."""

from __future__ import annotations

import os

from ..config import Config
from ..detach import spawn_module
from ..store import hooks as deliveries
from ..store import open_store
from ..store.db import Store


def kick(db_path: str | os.PathLike, repo: str | os.PathLike | None, config: Config,
         store: Store | None = None) -> bool:
    """Start a detached worker if hooks are configured and an event or delivery waits.

    Called when a command (or a run) is done: it only reads unless there is work, never
    waits for a hook, and never fails; True if a worker was started.
    """
    if not config.hooks.commands:
        return False
    try:
        if not os.path.isfile(db_path):
            return False
        if store is not None and store.path != ":memory:":  # the caller's connection
            if store.readonly or not deliveries.has_work(store):
                return False
        else:
            with open_store(db_path, create=False) as own:
                if own.readonly or not deliveries.has_work(own):
                    return False
        args = ["--db", os.path.abspath(db_path)]
        if repo is not None:
            args += ["--repo", os.path.abspath(repo)]
        return spawn_module("hotfix_tui.hooks.worker", *args) == 0
    except Exception:  # telling people never gets in the way of the action
        return False
