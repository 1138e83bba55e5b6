"""The web face of `hotfix serve`: textual-serve, with a token in front of every request.

textual-serve starts one console process per browser session and relays the terminal over a
websocket. What it adds to that here:

- every request needs the session cookie, which only the token in the printed URL sets
  (compared in constant time); anything else gets a plain 403 page;
- the URL with the token is answered with a redirect to `/`, so the token leaves the
  address bar and the browser's history at once;
- the websocket also needs the page's own origin (another site, even one on this host at
  another port, cannot drive a reviewer's session);
- the access log has method, path and status, never a query string;
- the pages are built from the request's own host, so an SSH forward to any local port works.

The console each session runs is fixed here, with `--readonly`; nothing a client sends
(query strings, websocket messages) reaches its command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import shlex
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from textual_serve.server import Server

log = logging.getLogger("hotfix.serve")
PAGES = Path(__file__).resolve().parent / "serve_page"

FORBIDDEN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>403 Forbidden</title></head>
<body><h1>403 Forbidden</h1>
<p>This hotfix console needs its token: open the whole URL that <code>hotfix serve</code>
printed when it started. The browser must accept cookies for this address.</p>
</body></html>
"""

HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # a framed console could be fed keys by another page
    "X-Content-Type-Options": "nosniff",
}


class Access:
    """Who may use the console: whoever holds the token (or the cookie it sets)."""

    def __init__(self, token: str, port: int) -> None:
        self._token = token.encode()
        # cookies ignore ports: servers on other ports of this host keep their own
        self.cookie_name = f"hotfix_serve_{port}"
        self.session = hmac.new(self._token, b"hotfix serve session",
                                hashlib.sha256).hexdigest()

    def __repr__(self) -> str:  # a traceback or a log line never shows the token
        return f"Access(cookie={self.cookie_name!r}, token=<hidden>)"

    def token_ok(self, given: str) -> bool:
        return hmac.compare_digest(given.encode("utf-8", "replace"), self._token)

    def session_ok(self, given: str) -> bool:
        return hmac.compare_digest(given.encode("utf-8", "replace"), self.session.encode())


def forbidden() -> web.Response:
    return web.Response(status=403, text=FORBIDDEN_PAGE, content_type="text/html",
                        headers={"Cache-Control": "no-store"})


def scheme(request: web.Request) -> str:
    """http, or https behind a TLS proxy that says so (a page cannot set this header on a
    websocket, so it cannot weaken the origin check)."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").strip().lower()
    return forwarded if forwarded in ("http", "https") else request.scheme


def same_origin(request: web.Request) -> bool:
    """A browser's websocket says which page opened it: it must be this server's page."""
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{scheme(request)}://{request.host}"


def guard(access: Access):
    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        if "token" in request.query:
            if request.path != "/" or not access.token_ok(request.query["token"]):
                return forbidden()
            rest = [(k, v) for k, v in request.query.items() if k != "token"]
            response = web.Response(status=303, headers={
                "Location": str(request.rel_url.with_query(rest)), "Cache-Control": "no-store"})
            response.set_cookie(access.cookie_name, access.session, path="/", httponly=True,
                                samesite="Strict")
            return response
        if not access.session_ok(request.cookies.get(access.cookie_name, "")):
            return forbidden()
        if request.path == "/ws" and not same_origin(request):
            return forbidden()
        return await handler(request)

    return middleware


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(HEADERS)
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")


class AccessLog(AbstractAccessLogger):
    """One line per request, without the query string (where a token would be)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %s", request.remote, request.method, request.path,
                         response.status)


def setup_logging() -> None:
    """Plain lines on stderr: no rich tracebacks with local variables (they could hold the
    token)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
    for name, level in (("hotfix.serve", logging.INFO), ("textual-serve", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


class ConsoleServer(Server):
    """textual-serve's Server, guarded, running a fixed read-only console command."""

    def __init__(self, argv: list[str], access: Access, title: str) -> None:
        # textual-serve starts the command through a shell; `exec` and a quoted argv leave
        # exactly this program and these arguments (no token among them)
        super().__init__("exec " + shlex.join(argv), title=title, templates_path=PAGES)
        self.access = access
        self.sessions: dict[web.WebSocketResponse, Any] = {}  # websocket: its AppService

    def initialize_logging(self) -> None:
        setup_logging()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(guard(self.access))
        app.on_response_prepare.append(_security_headers)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """The command prints its own banner (textual-serve's would show the command)."""

    async def _process_messages(self, websocket: web.WebSocketResponse, app_service) -> None:
        self.sessions[websocket] = app_service
        try:
            await super()._process_messages(websocket, app_service)
        finally:
            self.sessions.pop(websocket, None)

    async def on_shutdown(self, app: web.Application) -> None:
        # a closed websocket ends its session: textual-serve then tells the console to quit;
        # wait for each console to be gone before the event loop closes
        sessions = list(self.sessions.items())
        for websocket, _service in sessions:
            await websocket.close(code=1001, message=b"hotfix serve stopped")
        for _websocket, service in sessions:
            process = getattr(service, "_process", None)
            if process is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(process.wait(), 10)

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        """The page (serve_page/app_index.html), with URLs from the request's host rather
        than the bind address: `ssh -L 9000:127.0.0.1:8765` and http://localhost:9000/
        work too, and so does a TLS proxy that passes Host and X-Forwarded-Proto."""
        try:
            font_size = int(request.query.get("fontsize", "16"))
        except ValueError:
            font_size = 16
        http = scheme(request)
        ws = "wss" if http == "https" else "ws"
        return {
            "font_size": max(6, min(font_size, 48)),
            "app_websocket_url": f"{ws}://{request.host}/ws",
            "config": {"static": {"url": f"{http}://{request.host}/static/"}},
            "application": {"name": self.title},
        }

    def run(self, sock: socket.socket) -> None:
        """Serve on `sock` until SIGINT or SIGTERM."""
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        web.run_app(self._make_app(), sock=sock, loop=loop, print=None, handle_signals=True,
                    access_log_class=AccessLog, access_log=log, shutdown_timeout=5)
