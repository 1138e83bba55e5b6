"""Reading `.hotfix.toml` safely: only a regular file, of bounded size, in UTF-8 (a FIFO
or a link to /dev/zero is refused, never waited on or read without end)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from .core.errors import ConfigError

MAX_CONFIG_BYTES = 256 * 1024


def decode(raw: bytes, shown: str) -> str:
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{shown}: larger than {MAX_CONFIG_BYTES // 1024} KiB; a config "
                          "file is never that big")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{shown}: not valid UTF-8") from exc


def read_bounded(path: Path, limit: int = MAX_CONFIG_BYTES) -> bytes | None:
    """The bytes of a regular file (at most limit + 1 of them), or None when it does not
    exist. Anything else (a FIFO, a device, a directory) is refused before it is read:
    opening a FIFO would wait for a writer, reading /dev/zero would never end."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{path} is not a regular file ({_file_kind(st.st_mode)}); "
                          "it is not read")
    try:
        # O_NONBLOCK: if it became a FIFO since stat(), opening still returns at once
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"{path} is not a regular file; it is not read")
        return f.read(limit + 1)


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a plain file"


def line_of(text: str, section: str, key: str | None) -> int | None:
    """The line of `[section]` (key None) or of `key` in it, for messages; None if absent."""
    lines = text.splitlines()
    in_section = section == ""
    header = re.compile(r"^\s*\[\s*" + re.escape(section).replace(r"\.", r"\s*\.\s*")
                        + r"\s*\]\s*(#.*)?$")
    any_header = re.compile(r"^\s*\[")
    for i, line in enumerate(lines, 1):
        if header.match(line):
            if key is None:
                return i
            in_section = True
            continue
        if any_header.match(line):
            in_section = False
            continue
        if in_section and key is not None and re.match(
            r"^\s*['\"]?" + re.escape(key) + r"['\"]?\s*=", line
        ):
            return i
    return None
