"""Room on the database's disk kept for a run's outcome.

A full disk must not cost the record of how a run ended. So when a runner claims its run
it sets aside a little space beside the database (a file of zeros); the first time the
store is refused for lack of room, the runner frees it, and what it still has to write
(its own note, its heartbeat, the outcome and what it means) fits. The file goes when the
run ends, whoever records the end (lifecycle.finish_run).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

SIZE = 1 << 20


def path_for(db_path: str | os.PathLike, key: str) -> Path:
    db = Path(db_path)
    return db.with_name(f"{db.name}-reserve-{key}")


def make(db_path: str | os.PathLike, key: str) -> Path | None:
    """Set SIZE bytes aside beside the database for run `key`; None when the disk has
    not that much room (or the store is not a file)."""
    if str(db_path) == ":memory:":
        return None
    path = path_for(db_path, key)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError:
        return None
    try:
        try:
            os.posix_fallocate(fd, 0, SIZE)
        except OSError:  # a filesystem without fallocate: write the zeros
            os.ftruncate(fd, 0)
            if os.write(fd, b"\0" * SIZE) != SIZE:
                raise OSError("no room") from None
            os.fsync(fd)
    except OSError:
        os.close(fd)
        release(path)
        return None
    os.close(fd)
    return path


def release(path: str | os.PathLike | None) -> bool:
    """Give the room back; True when there was some to give."""
    if not path:
        return False
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
        return True
    return False
