"""`hotfix serve` over HTTP, without a browser: the token, the cookie, what a client can and
cannot change, what is printed and logged, and every bad input."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from hotfix_tui import services
from hotfix_tui.core.errors import HotfixError
from tests.helpers import assert_one_line_error, run_proc
from tests.serve_helpers import (
    HOTFIX,
    Served,
    argv_of,
    cli,
    environ_of,
    wait_for,
    world,
)

pytestmark = pytest.mark.skipif(not HOTFIX.exists(),
                                reason=f"hotfix is not installed next to {sys.executable}")


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    cli(tmp_path, "demo", "--dir", str(tmp_path / "demo"), "--no-tui")
    repo = tmp_path / "demo" / "shop-checkout"
    cli(repo, "start", "--incident", "INC-2", "--title", "Cap gift card redemption")
    return repo


@pytest.fixture
def served(demo: Path, tmp_path: Path):
    server = Served(demo, tmp_path)
    yield server
    server.stop()


def _token_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "token"
    path.write_text(text)
    path.chmod(mode)
    return path


async def _session(served: Served, query: str, messages: list, origin: str | None = None):
    """A websocket client that is not the page: any query string, any message."""
    headers = {"Cookie": served.cookie(), "Origin": origin or served.base}
    async with aiohttp.ClientSession() as http, \
            http.ws_connect(f"{served.base}/ws?{query}", headers=headers) as ws:
        for message in messages:
            await ws.send_str(json.dumps(message))
        consoles = await asyncio.to_thread(wait_for, served.consoles, "a console started")
        got = b""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(60):  # until the console has drawn its banner
                while b"READ-ONLY" not in got:
                    msg = await ws.receive()
                    assert msg.type == aiohttp.WSMsgType.BINARY, msg
                    got += msg.data
        return consoles, got


# -- the token -------------------------------------------------------------------------
def test_without_the_token_every_page_is_refused(served):
    wrong = served.token[:-1] + ("A" if served.token[-1] != "A" else "B")
    for path in ("/", f"/?token={wrong}", "/?token=", "/ws?width=80&height=24",
                 "/static/js/textual.js", "/download/0123456789abcdef",
                 f"/ws?token={served.token}", f"/static/js/textual.js?token={served.token}"):
        status, headers, body = served.get(path)
        assert status == 403, path
        assert "403 Forbidden" in body and "hotfix serve" in body
        assert served.token not in body and "set-cookie" not in headers
    status, _, _ = served.get("/", {"Cookie": f"hotfix_serve_{served.port}={'0' * 64}"})
    assert status == 403


def test_the_token_opens_a_session_and_leaves_the_address_bar(served):
    status, headers, body = served.get(f"/?token={served.token}&fontsize=14")
    assert status == 303
    assert headers["location"] == "/?fontsize=14"  # the token is gone from the URL
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"hotfix_serve_{served.port}=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert served.token not in cookie
    status, headers, page = served.get("/?fontsize=14", {"Cookie": served.cookie()})
    assert status == 200
    assert headers["referrer-policy"] == "no-referrer" and headers["x-frame-options"] == "DENY"
    assert "<title>hotfix · shop-checkout · read-only</title>" in page
    assert f'data-session-websocket-url="ws://127.0.0.1:{served.port}/ws"' in page
    assert 'data-font-size="14"' in page
    assert "googleapis" not in page  # the font comes from the server itself
    status, _, _ = served.get("/static/js/textual.js", {"Cookie": served.cookie()})
    assert status == 200


def test_the_page_follows_the_host_it_was_reached_by(served):
    """Through `ssh -L 9000:127.0.0.1:8765`, the browser says Host: localhost:9000."""
    status, _, page = served.get("/", {"Cookie": served.cookie(), "Host": "localhost:9000"})
    assert status == 200
    assert 'data-session-websocket-url="ws://localhost:9000/ws"' in page
    assert 'href="http://localhost:9000/static/css/xterm.css"' in page
    status, _, page = served.get("/", {"Cookie": served.cookie(), "Host": "review.example",
                                       "X-Forwarded-Proto": "https"})  # behind a TLS proxy
    assert status == 200
    assert 'data-session-websocket-url="wss://review.example/ws"' in page
    assert 'href="https://review.example/static/css/xterm.css"' in page


def test_a_page_from_another_origin_cannot_open_a_session(served):
    async def attempt():
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await _session(served, "width=80&height=24", [],
                           origin=f"http://127.0.0.1:{served.port + 1}")
        return refused.value.status

    assert asyncio.run(attempt()) == 403
    assert served.consoles() == []

    async def behind_a_tls_proxy():  # the page came over https; the proxy says so
        headers = {"Cookie": served.cookie(), "Origin": f"https://127.0.0.1:{served.port}",
                   "X-Forwarded-Proto": "https"}
        async with aiohttp.ClientSession() as http, \
                http.ws_connect(f"{served.base}/ws?width=80&height=24", headers=headers):
            return await asyncio.to_thread(wait_for, served.consoles, "a console")

    assert asyncio.run(behind_a_tls_proxy())


# -- read-only, whatever the client sends ---------------------------------------------------
def test_a_client_cannot_switch_off_readonly(served, demo):
    before = world(demo)
    hostile = ("width=100&height=30&readonly=0&readonly=false&args=tui&command=hotfix+tui"
               "&db=/dev/null")
    messages = [["resize", {"width": 90, "height": 30}], ["command", "hotfix tui"],
                ["stdin", "R"], ["stdin", "n"], ["stdin", "m"], ["stdin", "r"],
                ["stdin", "\x1b:readonly 0\r"], ["focus"], ["blur"]]
    consoles, drawn = asyncio.run(_session(served, hostile, messages))
    assert b"READ-ONLY" in drawn
    db = demo / ".git" / "hotfix" / "hotfix.db"
    assert [argv_of(pid) for pid in consoles] == [[
        argv_of(consoles[0])[0], "-m", "hotfix_tui", "--db", str(db), "--repo", str(demo),
        "tui", "--readonly"]]
    assert world(demo) == before
    wait_for(lambda: served.consoles() == [], "the console ended with its session")


def test_the_served_console_holds_the_database_open_read_only(served, demo):
    """Below the console's own refusals, SQLite itself: every descriptor the served console
    has on the database file is O_RDONLY."""
    db = demo / ".git" / "hotfix" / "hotfix.db"

    def descriptors(pid: int) -> list[int]:
        found = []
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == str(db):
                    info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
                    found.append(int(info.split("flags:", 1)[1].split()[0], 8))
            except OSError:
                continue
        return found

    async def look() -> list[int]:
        headers = {"Cookie": served.cookie(), "Origin": served.base}
        async with aiohttp.ClientSession() as http, \
                http.ws_connect(f"{served.base}/ws?width=100&height=30", headers=headers):
            consoles = await asyncio.to_thread(wait_for, served.consoles, "a console")
            return await asyncio.to_thread(wait_for, lambda: descriptors(consoles[0]),
                                           "the console opened the database")

    flags = asyncio.run(look())
    assert flags and all(f & os.O_ACCMODE == os.O_RDONLY for f in flags), flags


def test_a_browsing_context_cannot_write_even_past_the_console(demo):
    ctx = services.open_context(repo=demo)
    ctx.readonly = True
    before = world(demo)
    with pytest.raises(HotfixError):
        services.set_incident_status(ctx, "INC-2", "mitigated")
    with ctx.open(create=False) as store, pytest.raises(sqlite3.OperationalError,
                                                       match="readonly"):
        store.conn.execute("INSERT INTO audit_events DEFAULT VALUES")
    assert world(demo) == before


# -- what is printed and logged -------------------------------------------------------------
def test_the_token_is_printed_once_and_nowhere_else(served):
    _, drawn = asyncio.run(_session(served, "width=80&height=24", [["stdin", "h"]]))
    assert drawn and served.token.encode() not in drawn
    served.get("/?token=wrong-token-in-the-log")
    out = served.out_path.read_text()
    assert out.count(served.token) == 1
    assert f"{served.url}" in out
    assert f"ssh -L {served.port}:127.0.0.1:{served.port}" in out
    # a websocket is logged when its session ends
    err = wait_for(lambda: "GET /ws 101" in served.err_path.read_text() and
                   served.err_path.read_text(), "the session in the access log")
    assert served.token not in err and "token=" not in err
    assert "GET / 303" in err and "GET / 403" in err
    for pid in served.descendants():
        assert served.token.encode() not in "\0".join(argv_of(pid)).encode(), pid
        assert served.token.encode() not in environ_of(pid), pid


def test_a_token_file_keeps_the_token_off_the_screen(demo, tmp_path):
    token = "t0ken-from-a-file_" + "x" * 30
    server = Served(demo, tmp_path, "--token-file", str(_token_file(tmp_path, token + "\n")))
    try:
        assert server.token == f"<the token in {tmp_path / 'token'}>"
        server.token = token
        assert server.get(f"/?token={token}")[0] == 303
        assert token not in server.output()
        for pid in server.descendants():
            assert token not in " ".join(argv_of(pid))
            assert token.encode() not in environ_of(pid)
    finally:
        server.stop()


def test_any_other_address_needs_a_token_file_and_is_warned_about(demo, tmp_path):
    res = run_proc(["serve", "--host", "0.0.0.0", "--port", "0"], cwd=demo)
    assert_one_line_error(res, contains="--token-file")
    token = "a" * 40
    server = Served(demo, tmp_path, "--host", "0.0.0.0",
                    "--token-file", str(_token_file(tmp_path, token)))
    try:
        warning = server.err_path.read_text()
        assert warning.startswith("warning: serving on 0.0.0.0")
        assert "plain HTTP" in warning and "ssh -L" not in server.out_path.read_text()
        assert server.get(f"/?token={token}")[0] == 303  # reachable on every address
    finally:
        server.stop()


def test_stopping_the_server_ends_its_sessions(served):
    async def hold():
        headers = {"Cookie": served.cookie(), "Origin": served.base}
        async with aiohttp.ClientSession() as http, \
                http.ws_connect(f"{served.base}/ws?width=80&height=24", headers=headers) as ws:
            consoles = await asyncio.to_thread(wait_for, served.consoles, "a console")
            served.proc.terminate()
            msg = await asyncio.wait_for(ws.receive(), 30)
            while msg.type == aiohttp.WSMsgType.BINARY:
                msg = await asyncio.wait_for(ws.receive(), 30)
            return consoles, msg.type

    consoles, last = asyncio.run(hold())
    assert last in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert served.proc.wait(timeout=30) == 0
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in consoles),
             "the session's console exited")


# -- bad input: one line, non-zero, nothing served ---------------------------------------------
@pytest.mark.parametrize("content, mode, says", [
    ("", 0o600, "is empty"),
    ("short", 0o600, "at least 32"),
    ("has spaces " + "x" * 40, 0o600, "letters, digits"),
    ("two\nlines" + "x" * 40, 0o600, "letters, digits"),
    ("x" * 40, 0o644, "chmod 600"),
    ("x" * 40, 0o660, "chmod 600"),
])
def test_a_bad_token_file_is_refused(demo, tmp_path, content, mode, says):
    path = _token_file(tmp_path, content, mode)
    res = run_proc(["serve", "--port", "0", "--token-file", str(path)], cwd=demo, timeout=30)
    assert_one_line_error(res, contains=says)
    assert content.strip() == "" or content not in res.err


def test_a_missing_token_file_is_refused(demo, tmp_path):
    res = run_proc(["serve", "--token-file", str(tmp_path / "nope")], cwd=demo, timeout=30)
    assert_one_line_error(res, contains="no such file")
    res = run_proc(["serve", "--token-file", str(tmp_path)], cwd=demo, timeout=30)
    assert_one_line_error(res, contains="not a regular file")


def test_a_port_in_use_or_a_bad_port_or_host_is_refused(demo):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        res = run_proc(["serve", "--port", str(port)], cwd=demo, timeout=30)
    assert_one_line_error(res, contains=f"cannot listen on 127.0.0.1 port {port}")
    assert_one_line_error(run_proc(["serve", "--port", "70000"], cwd=demo, timeout=30), code=2)
    assert_one_line_error(run_proc(["serve", "--host", "no-such-host.invalid"], cwd=demo,
                                   timeout=30), contains="cannot resolve")
    assert_one_line_error(run_proc(["serve", "--host", " "], cwd=demo, timeout=30),
                          contains="--host is empty")


def test_without_textual_serve_it_says_what_to_install(demo):
    code = ("import sys; sys.modules['textual_serve'] = None; "  # as if not installed
            "from hotfix_tui.cli import main; main(['serve', '--port', '0'])")
    proc = subprocess.run([sys.executable, "-c", code], cwd=demo, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "error: hotfix serve needs textual-serve, which is not installed: "
        "pip install 'hotfix-tui[serve]'"]
