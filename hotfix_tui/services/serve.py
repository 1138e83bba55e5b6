"""What `hotfix serve` may serve, and to whom: the rules behind the read-only web console.

- It serves the console of one database, read-only; the database must open read-only now.
- Every session needs a token: generated (URL-safe, 256 bits) or read from a file that only
  its owner can read.
- A loopback address is the default; any other address needs a token from a file.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import stat
import string
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import HotfixError, ValidationError
from .context import Context

TOKEN_MIN_LENGTH = 32
TOKEN_ALPHABET = frozenset(string.ascii_letters + string.digits + "-._~")  # URL-safe as is
RECIPE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > FILE"


@dataclass(frozen=True)
class ServeTarget:
    """The console to serve: one database, and the repository if there is one."""

    db_path: Path
    repo: Path | None
    name: str


def serve_target(ctx: Context) -> ServeTarget:
    """Check the database opens read-only (a foreign or newer file is refused here, not in
    every session); the context only reads from now on."""
    ctx.readonly = True
    with ctx.reading():
        pass
    repo = ctx.repo.toplevel if ctx.repo else None
    return ServeTarget(ctx.db_path, repo, repo.name if repo else ctx.db_path.name)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def read_token_file(path: Path) -> str:
    """The token in `path`: one line of at least 32 URL-safe characters, in a file no other
    account can read or write (like an SSH private key)."""
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise ValidationError(f"--token-file {path} is not a regular file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError(f"--token-file {path}: no such file (make one: "
                              f"{RECIPE}; chmod 600 FILE)") from None
    except OSError as exc:
        raise ValidationError(f"cannot read --token-file {path}: "
                              f"{exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValidationError(f"--token-file {path} is not UTF-8 text") from None
    if mode & 0o077:
        raise ValidationError(f"--token-file {path} is open to other accounts (mode "
                              f"{stat.S_IMODE(mode):04o}); chmod 600 {path}")
    token = text.strip()
    if not token:
        raise ValidationError(f"--token-file {path} is empty")
    if any(c not in TOKEN_ALPHABET for c in token):
        raise ValidationError(f"--token-file {path} must hold one token of letters, digits "
                              f"and - . _ ~ only, on one line")
    if len(token) < TOKEN_MIN_LENGTH:
        raise ValidationError(f"--token-file {path} holds a token of {len(token)} characters; "
                              f"at least {TOKEN_MIN_LENGTH} are needed ({RECIPE})")
    return token


def bind_addresses(host: str, port: int) -> list[tuple]:
    """getaddrinfo for listening on host:port; a name that does not resolve is an error."""
    if not host.strip():
        raise ValidationError("--host is empty (use 127.0.0.1, or 0.0.0.0 for every address)")
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                  flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValidationError(f"--host {host}: cannot resolve it "
                              f"({getattr(exc, 'strerror', None) or exc})") from None


def is_loopback(addresses: list[tuple]) -> bool:
    """True when every address a host resolves to is a loopback address."""
    found = False
    for _family, _type, _proto, _name, sockaddr in addresses:
        found = True
        try:
            if not ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]).is_loopback:
                return False
        except ValueError:
            return False
    return found


def require_token_file(host: str, addresses: list[tuple], token_file: Path | None) -> None:
    if token_file is None and not is_loopback(addresses):
        raise HotfixError(f"--host {host} is not a loopback address: serving beyond this "
                          f"machine needs --token-file FILE (make one: {RECIPE}; "
                          f"chmod 600 FILE)")
