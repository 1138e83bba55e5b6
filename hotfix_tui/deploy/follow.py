"""Follow a run's log as it is written: `hotfix log --follow`, `hotfix deploy` in the foreground."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

from ..core.models import LogLine
from ..store import open_store
from ..store.runs import read_lines, run_row
from .launch import settle
from .lifecycle import effective_status

PAGE = 5000


def follow(db_path: str | os.PathLike, deploy_id: int, after_seq: int = 0, poll: float = 0.1,
           stop: threading.Event | None = None) -> Iterator[LogLine]:
    """Yield the run's lines after `after_seq`, in order, as they arrive.

    Ends once the run is finished (a dead runner counts: `interrupted`) and every
    line has been yielded, or as soon as `stop` is set. The status is read before
    the lines: the runner stores its last line before it records the outcome, so
    a finished status means the lines read next are all there is.
    """
    store = open_store(db_path, create=False)
    seq = after_seq
    try:
        while stop is None or not stop.is_set():
            finished = effective_status(run_row(store, deploy_id)).finished
            while True:
                lines = read_lines(store, deploy_id, seq, limit=PAGE)
                if lines:
                    seq = lines[-1].seq
                    yield from lines
                if len(lines) < PAGE or (stop is not None and stop.is_set()):
                    break
            if finished:
                settle(store, deploy_id)
                return
            if stop is not None:
                stop.wait(poll)
            else:
                time.sleep(poll)
    finally:
        store.close()
