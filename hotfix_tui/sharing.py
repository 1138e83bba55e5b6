"""Files a team shares on one bastion: group-owned and group-writable, whatever the umask.

Shared mode is on when `[store] shared_group` names a group, or when the database's
folder (or, before it exists, its nearest existing parent) has the setgid bit: the
usual way a bastion admin marks a directory as the team's. In shared mode:

- the process umask loses its group bits (0022 becomes 0002), so everything this
  process and its children create (git worktrees, run folders, exported records, the
  runner's files) is group-writable. Non-interactive ssh sessions start with 0022 and
  read no profile, so advice to set a umask cannot be relied on;
- folders the tool creates itself get the group and the setgid bit, so what git and
  the runner create inside them inherits the group;
- the database file is created group-writable before SQLite first opens it (SQLite
  creates files 0644 and gives `-wal` and `-shm` the main file's mode), and sidecars
  left with a narrower mode by an earlier failed attempt are repaired, or named with
  the exact command that repairs them.
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import os
import pwd
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from .core.errors import ConfigError, StoreError

SIDECARS = ("-wal", "-shm", "-journal")
GROUP_RW = stat.S_IRGRP | stat.S_IWGRP


@dataclass(frozen=True)
class Sharing:
    """Whether the files the tool creates are shared with a group, and why."""

    gid: int
    group: str
    why: str  # for `hotfix doctor`: where shared mode comes from
    explicit: bool  # from [store] shared_group: chown what we create to the group


_active: Sharing | None = None


def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def detect(db_path: Path, shared_group: str = "") -> Sharing | None:
    """Shared mode for a database at `db_path`, or None for a private one."""
    if shared_group:
        try:
            entry = grp.getgrnam(shared_group)
        except KeyError:
            raise ConfigError(f"[store] shared_group: no such group {shared_group!r}") from None
        return Sharing(entry.gr_gid, entry.gr_name, f"[store] shared_group = {entry.gr_name!r}",
                       True)
    where = nearest_existing(db_path.parent)
    try:
        st = where.stat()
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISGID:
        return Sharing(st.st_gid, group_name(st.st_gid),
                       f"{where} is setgid (group {group_name(st.st_gid)})", False)
    return None


def in_group(gid: int) -> bool:
    return os.geteuid() == 0 or gid == os.getegid() or gid in os.getgroups()


def activate(sharing: Sharing | None) -> None:
    """Enter shared mode for the rest of this process (umask is per process anyway)."""
    global _active
    _active = sharing
    if sharing is not None:
        old = os.umask(0)
        os.umask(old & ~0o070)


def active() -> Sharing | None:
    return _active


def adopt(path: Path, directory: bool = False) -> None:
    """Give something we just created to the group: group-writable, the group's gid
    when shared mode is explicit, and the setgid bit on folders so their contents
    inherit the group."""
    s = _active
    if s is None:
        return
    with contextlib.suppress(OSError):
        st = path.stat()
        if s.explicit and st.st_gid != s.gid and in_group(s.gid):
            os.chown(path, -1, s.gid)
        mode = stat.S_IMODE(st.st_mode) | GROUP_RW
        if directory:
            mode |= stat.S_IXGRP | stat.S_ISGID
        if mode != stat.S_IMODE(st.st_mode):
            os.chmod(path, mode)


def make_dirs(path: Path) -> None:
    """mkdir -p, each new folder adopted by the group."""
    path = Path(path)
    missing = []
    for candidate in (path, *path.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
        adopt(folder, directory=True)


def create_database_file(path: Path) -> None:
    """An empty database file with the mode SQLite will copy onto `-wal` and `-shm`."""
    mode = 0o666 & ~_current_umask()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return
    os.close(fd)
    adopt(path)


def _current_umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


def adopt_database(path: Path) -> None:
    """In shared mode, a database we own that the group cannot write (made before shared
    mode, or by an older version) is opened up to the group before SQLite copies its
    mode onto new sidecars."""
    if _active is None:
        return
    with contextlib.suppress(OSError):
        st = path.stat()
        if st.st_uid == os.geteuid() and (st.st_mode & GROUP_RW != GROUP_RW
                                          or (_active.explicit and st.st_gid != _active.gid)):
            adopt(path)


# ---- sidecars -------------------------------------------------------------------------

def _someone_has_it_open(shm: Path) -> bool:
    """Does any process hold SQLite's lock on the `-shm` file (the byte every connection
    keeps a shared lock on)? Unknown counts as yes."""
    try:
        fd = os.open(shm, os.O_RDONLY)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    try:
        probe = struct.pack("@hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 128, 1, 0)
        got = fcntl.fcntl(fd, fcntl.F_GETLK, probe)
        return struct.unpack("@hhqqi4x", got)[0] != fcntl.F_UNLCK
    except OSError:
        return True
    finally:
        os.close(fd)


def _replace_with_own_copy(path: Path, mode: int, gid: int) -> None:
    """Copy a sidecar we cannot chmod into a file we own with the right mode, and move
    it into place (the folder is group-writable; the content is kept byte for byte)."""
    import shutil  # rarely needed: not loaded by every command
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
            shutil.copyfileobj(src, out)
        os.chmod(tmp, mode)
        with contextlib.suppress(OSError):
            os.chown(tmp, -1, gid)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def repair_sidecars(db_path: Path) -> list[str]:
    """Make `-wal`, `-shm` and `-journal` as writable as the database they belong to.

    A sidecar left with a narrower mode (by an account whose attempt failed, or from
    before shared mode) locks every other account out, the database's owner included.
    Ours: chmod. Someone else's while nobody has the database open: replaced by a copy
    we own. Someone else's while it is in use: an error naming the exact fix.
    Returns what was repaired, for the caller to mention.
    """
    try:
        main = db_path.stat()
    except OSError:
        return []
    repaired: list[str] = []
    for suffix in SIDECARS:
        side = Path(str(db_path) + suffix)
        try:
            st = side.stat()
        except OSError:
            continue
        done = _repair_sidecar(db_path, side, st, main)
        if done:
            repaired.append(done)
    return repaired


def _repair_sidecar(db_path: Path, side: Path, st: os.stat_result,
                    main: os.stat_result) -> str:
    """What was done to make `side` as writable as the database ("" if it already was)."""
    want = stat.S_IMODE(main.st_mode) & 0o666
    have = stat.S_IMODE(st.st_mode)
    if have & want == want and st.st_gid == main.st_gid:
        return ""
    if st.st_uid == os.geteuid() or os.geteuid() == 0:
        try:
            os.chmod(side, have | want)
            if st.st_gid != main.st_gid:
                os.chown(side, -1, main.st_gid)
        except OSError as exc:
            raise StoreError(f"cannot repair {side}: {exc.strerror or exc}") from exc
        return f"{side.name}: mode {have:04o} → {have | want:04o}"
    shm = Path(str(db_path) + "-shm")
    if (not _someone_has_it_open(shm) and os.access(side, os.R_OK)
            and os.access(side.parent, os.W_OK | os.X_OK)):
        try:
            _replace_with_own_copy(side, want, main.st_gid)
        except OSError as exc:
            raise StoreError(f"cannot repair {side}: {exc.strerror or exc}") from exc
        return (f"{side.name}: left by {owner_name(st.st_uid)} with mode "
                f"{have:04o}; replaced by a group-writable copy")
    raise StoreError(
        f"{side} belongs to {owner_name(st.st_uid)} with mode {have:04o}, narrower than "
        f"the database's {want:04o}, so other accounts cannot use the database; fix: "
        f"sudo chmod {want:o} {side} && sudo chgrp {group_name(main.st_gid)} {side}")
