"""`hotfix serve`: the read-only console in a browser, for reviewers without a terminal."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import click

from ..core.errors import HotfixError
from .common import get_ctx, out, warn

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
INSTALL = "pip install 'hotfix-tui[serve]'"


def console_argv(db_path: Path, repo: Path | None) -> list[str]:
    """The console every browser session runs: this install's `hotfix tui --readonly` on
    this database. Fixed here; no client input reaches it."""
    argv = [sys.executable, "-m", "hotfix_tui", "--db", str(db_path)]
    if repo is not None:
        argv += ["--repo", str(repo)]
    return [*argv, "tui", "--readonly"]


def listen(host: str, addresses: list[tuple]) -> socket.socket:
    family, _type, _proto, _name, sockaddr = addresses[0]
    try:
        return socket.create_server(sockaddr, family=family)
    except OSError as exc:
        raise HotfixError(f"cannot listen on {host} port {sockaddr[1]}: "
                          f"{exc.strerror or exc}") from None


def url_host(host: str, sock: socket.socket) -> str:
    """How a browser names this server: the host given, or this machine's name for a
    wildcard address."""
    if host in ("0.0.0.0", "::"):  # noqa: S104 (naming the wildcard, not binding it)
        host = socket.gethostname()
    return f"[{host}]" if ":" in host else host


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="Address to listen on; anything but loopback needs --token-file.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--token-file", type=click.Path(path_type=Path), default=None,
              help="Read the access token from FILE (mode 0600, one line of at least 32 "
                   "URL-safe characters) instead of generating one.")
@click.pass_context
def serve_cmd(click_ctx: click.Context, host: str, port: int, token_file: Path | None) -> None:
    """Serve the read-only console (hotfix tui --readonly) to a web browser.

    Every session needs the token in the printed URL; read-only cannot be turned off.
    From a laptop: ssh -L 8765:127.0.0.1:8765 BASTION, then open the URL.
    """
    try:
        from .serve_http import Access, ConsoleServer
    except ImportError:
        raise HotfixError(f"hotfix serve needs textual-serve, which is not installed: "
                          f"{INSTALL}") from None
    from ..services import serve

    addresses = serve.bind_addresses(host, port)
    serve.require_token_file(host, addresses, token_file)
    token = serve.read_token_file(token_file) if token_file else serve.new_token()
    target = serve.serve_target(get_ctx(click_ctx, one_connection=False))
    sock = listen(host, addresses)
    port = sock.getsockname()[1]
    base = f"http://{url_host(host, sock)}:{port}/"
    if not serve.is_loopback(addresses):
        warn(f"serving on {host} port {port}, reachable from other machines, over plain "
             "HTTP: the token and the console cross the network unencrypted; prefer "
             f"--host {DEFAULT_HOST} with an SSH port-forward, or a TLS proxy in front")
    out(f"Serving the read-only console of {target.name} (database {target.db_path}).")
    if token_file:
        out(f"Open {base}?token=<the token in {token_file}>")
    else:
        out(f"Open this URL (its token is shown only now): {base}?token={token}")
    if serve.is_loopback(addresses):
        out(f"From another machine, forward the port first: ssh -L {port}:127.0.0.1:{port} "
            f"{socket.gethostname()}")
    out("Ctrl+C stops.")
    sys.stdout.flush()
    server = ConsoleServer(console_argv(target.db_path, target.repo), Access(token, port),
                           title=f"hotfix · {target.name} · read-only")
    del token
    try:
        server.run(sock)
    finally:
        sock.close()


def register(root: click.Group) -> None:
    root.add_command(serve_cmd)
