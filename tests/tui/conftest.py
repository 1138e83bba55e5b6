from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotfix_tui import services
from tests.helpers import make_service_repo

FROZEN = datetime(2026, 11, 26, 3, 12, 0, tzinfo=UTC)

TUI_CONFIG = """\
[identity]
allow_override = true
sandbox = true  # one OS account plays alice and bob

[scope]
max_files = 5
max_lines = 50
checklist = ["Root cause understood", "Rollback plan tested or obvious"]
"""


async def settle(pilot, rounds: int = 4) -> None:
    """Wait until every finite worker is done and the screen has caught up (no sleeps)."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        pending = [w for w in list(app.workers) if w.group != "watch" and not w.is_finished]
        for w in pending:
            with contextlib.suppress(Exception):
                await w.wait()
        await pilot.pause()


async def wait_for(pilot, predicate, timeout: float = 10.0) -> bool:
    """Poll the app (not a fixed sleep) until `predicate()` holds or `timeout` passes."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await settle(pilot, rounds=1)
        if predicate():
            return True
        await pilot.pause(0.05)
    return predicate()


@pytest.fixture
def shop(tmp_path: Path, monkeypatch):
    r = make_service_repo(tmp_path / "shop", config=TUI_CONFIG)
    monkeypatch.setenv("HOTFIX_ACTOR", "alice")
    assert r.cli("incident", "open", "--title", "Checkout totals wrong", "--sev", "1",
                 "--service", "checkout").code == 0
    return r


def make_ctx(repo: Path, actor: str, monkeypatch, clock=None):
    monkeypatch.setenv("HOTFIX_ACTOR", actor)
    ctx = services.open_context(repo=repo)
    if clock is not None:
        ctx.clock = clock
    return ctx


def screen_text(app) -> str:
    """Everything the screen shows, as plain text (for asserting what a user sees)."""
    import html
    import re

    svg = app.export_screenshot()  # the real rendered frame
    svg = re.sub(r"<style>.*?</style>", "", svg, flags=re.S)
    svg = re.sub(r"<defs>.*?</defs>", "", svg, flags=re.S)
    text = re.sub(r"<[^>]+>", "", svg)
    return html.unescape(text).replace("\xa0", " ")
