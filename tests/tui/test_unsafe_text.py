"""The console's frames carry no C1, bidi or zero-width character, whatever git, deploy
output or an older record holds: each is shown as <U+XXXX>, never obeyed or hidden."""

from __future__ import annotations

import sqlite3
import unicodedata

from textual.widgets import DataTable

from hotfix_tui.tui.app import HotfixApp
from tests.integration.deploy_helpers import EVIL, evil_service
from tests.tui.conftest import make_ctx, screen_text, settle, wait_for


def frame(app) -> str:
    """The bytes the console would write for the whole screen now (Textual's own 7-bit
    escape sequences included)."""
    return app.screen._compositor.render_full_update().render_segments(app.console)


def hidden_in_frame(app) -> list[str]:
    """Characters of the frame a terminal obeys or hides, other than the C0 escape
    sequences Textual itself writes; and any C0 character in the text a user sees."""
    beyond_c0 = [f"U+{ord(c):04X}" for c in frame(app) if ord(c) > 0x7F
                 and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs")]
    c0 = [f"U+{ord(c):04X}" for c in screen_text(app) if c != "\n"
          and unicodedata.category(c) == "Cc"]
    return beyond_c0 + c0


async def test_no_screen_shows_a_hidden_or_control_character(tmp_path, monkeypatch):
    svc = evil_service(tmp_path)
    # and a record stored by an older version, or written by SQL
    conn = sqlite3.connect(svc.path / ".git" / "hotfix" / "hotfix.db")
    conn.execute("UPDATE hotfixes SET why = ?, risk = ?", (f"w{EVIL}", "esc \x1b[2J here"))
    conn.execute("UPDATE incidents SET title = ?", (f"Checkout {EVIL}",))
    conn.commit()
    conn.close()
    from hotfix_tui.tui.screens.deploy import DeployScreen
    from hotfix_tui.tui.screens.history import HistoryScreen
    from hotfix_tui.tui.screens.hotfix import HotfixScreen
    from hotfix_tui.tui.screens.start import PickCommitsScreen

    ctx = make_ctx(svc.path, "alice", monkeypatch)
    app = HotfixApp(ctx)
    seen: dict[str, list[str]] = {}
    shown = ""
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        seen["dashboard"] = hidden_in_frame(app)
        shown += screen_text(app)

        app.push_screen(PickCommitsScreen("HF-1"))
        assert await wait_for(pilot, lambda: app.screen.query_one(
            "#commits", DataTable).row_count > 0)
        seen["pick list"] = hidden_in_frame(app)
        shown += screen_text(app)
        app.pop_screen()

        app.push_screen(HotfixScreen("HF-1"))
        await settle(pilot)
        for tab in "123456":
            await pilot.press(tab)
            await settle(pilot)
            seen[f"hotfix tab {tab}"] = hidden_in_frame(app)
            shown += screen_text(app)
        app.pop_screen()

        app.push_screen(DeployScreen("D-1"))
        assert await wait_for(pilot, lambda: "done" in screen_text(app))
        seen["deploy pane"] = hidden_in_frame(app)
        shown += screen_text(app)
        app.pop_screen()

        app.push_screen(HistoryScreen())
        await settle(pilot)
        seen["history"] = hidden_in_frame(app)
        shown += screen_text(app)
    assert {k: v for k, v in seen.items() if v} == {}
    # shown, not hidden: a reader can see that something was there
    for marker in ("<U+202E>", "<U+200B>", "<U+009B>", "\u241b[2J"):
        assert marker in shown, marker


def test_the_driver_drops_what_slipped_through():
    """The net under every screen: a C1, bidi or zero-width character in a frame never
    reaches the terminal; Textual's own escape sequences do."""
    from textual.drivers.headless_driver import HeadlessDriver

    from hotfix_tui.tui.app import _guarded

    written = []

    class Recording(HeadlessDriver):
        def write(self, data: str) -> None:
            written.append(data)

    driver = _guarded(Recording).__new__(_guarded(Recording))
    driver.write("\x1b[1;1Hr\u200boot \u202ex \x9b2J\x1b[0m")
    assert written == ["\x1b[1;1Hroot x 2J\x1b[0m"]
