"""Signed approvals in the console: the confirmation says which key will sign, the approval
is signed through a real ssh-agent started here, the Approvals tab marks it with the key's
fingerprint; without a usable key the console never prompts for a passphrase but says
how to load the key into the agent."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotfix_tui.tui.app import HotfixApp
from tests.helpers import make_service_repo
from tests.sshkeys import make_key
from tests.tui.conftest import TUI_CONFIG, make_ctx, screen_text, settle, wait_for


@pytest.fixture
def signed_shop(tmp_path: Path, monkeypatch):
    keys = {n: make_key(tmp_path / "keys", n) for n in ("bob", "mallory")}
    keys["bob-locked"] = make_key(tmp_path / "keys", "bob-locked", passphrase="s3cret")
    config = (TUI_CONFIG + '\n[approvals]\nsignatures = "required"\n'
              f'\n[environments.production]\ndriver = "local-symlink"\npath = "{tmp_path}/srv"\n')
    shop = make_service_repo(tmp_path / "shop", config=config, extra={
        ".hotfix/allowed_signers": keys["bob"].allowed_line("bob")
        + keys["bob-locked"].allowed_line("bob")})
    monkeypatch.setenv("HOTFIX_ACTOR", "alice")
    assert shop.cli("incident", "open", "--title", "Checkout totals wrong", "--sev", "1").code == 0
    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    assert shop.cli("pick", "HF-1", shop.fix).code == 0
    assert shop.cli("edit", "HF-1", "--why", "Totals ignore quantity", "--risk", "Low",
                    "--test-plan", "Unit tests", "--rollback-plan", "Back to 1.4.1").code == 0
    for n in ("1", "2"):
        assert shop.cli("check", "HF-1", n).code == 0
    assert shop.cli("submit", "HF-1").code == 0
    return shop, keys


def flat(text: str) -> str:
    """The screen's words, whatever the line breaks and borders (a modal wraps)."""
    return " ".join(text.replace("█", " ").split())


def _approvals(shop):
    return shop.cli("show", "HF-1", "--json", actor="bob").json()["approvals"]


async def _approve_dialog(pilot, app) -> str:
    """`a` once the screen is shown: the approval dialog's text, on one line."""
    await settle(pilot)
    await pilot.press("a")
    await settle(pilot)
    return flat(screen_text(app))


async def test_approve_signs_through_the_agent_and_the_tab_shows_the_key(signed_shop,
                                                                          monkeypatch, agent):
    shop, keys = signed_shop
    agent.add(keys["bob"])
    fp = keys["bob"].fingerprint()
    ctx = make_ctx(shop.path, "bob", monkeypatch)
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    app = HotfixApp(ctx, start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(160, 48)) as pilot:
        text = await _approve_dialog(pilot, app)
        assert "Approve HF-1?" in text
        assert f"signature signed with {fp} (from your agent; listed in " \
               ".hotfix/allowed_signers at" in text
        await pilot.press("tab", "enter")
        assert await wait_for(pilot, lambda: _approvals(shop)
                              and _approvals(shop)[0]["signature"]["valid"])
        await pilot.press("4")  # the Approvals tab
        assert await wait_for(pilot, lambda: f"signed {fp[:19]}" in screen_text(app))
        assert "counts" in screen_text(app)
    assert _approvals(shop)[0]["signature"]["key_fingerprint"] == fp


async def test_without_a_usable_key_the_console_says_how_to_load_it(signed_shop,
                                                                    monkeypatch):
    shop, keys = signed_shop
    locked = keys["bob-locked"]
    monkeypatch.setenv("HOTFIX_SIGNING_KEY", str(locked.path))
    ctx = make_ctx(shop.path, "bob", monkeypatch)
    from hotfix_tui.tui.screens.review import ReviewScreen

    app = HotfixApp(ctx, start_screen=ReviewScreen())
    async with app.run_test(size=(160, 48)) as pilot:
        text = await _approve_dialog(pilot, app)
        assert "REQUIRED, and it cannot be signed" in text
        assert "the console never asks for one" in text
        await pilot.press("tab", "enter")
        assert await wait_for(pilot, lambda: any(
            f"ssh-add {locked.path}" in str(n.message) for n in app._notifications))
    assert _approvals(shop) == []


async def test_a_bad_signature_is_marked_and_does_not_count(signed_shop, monkeypatch, agent):
    import sqlite3

    shop, keys = signed_shop
    agent.add(keys["bob"])
    assert shop.cli("approve", "HF-1", actor="bob").code == 0
    db = shop.path / ".git" / "hotfix" / "hotfix.db"
    conn = sqlite3.connect(db)
    conn.execute("UPDATE approvals SET comment = 'LGTM'")  # after signing
    conn.commit()
    conn.close()
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    app = HotfixApp(ctx, start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        assert await wait_for(pilot, lambda: "BAD SIGNATURE" in screen_text(app))
        text = screen_text(app)
        assert "does not count" in text and "approvals 0/1" in text
        assert "bob's approval does not count: bad signature" in (
            app.screen.why_not("deploy") or "")
    # the dashboard's count says the same
    from hotfix_tui import services
    from hotfix_tui.core.approval import valid_approvers

    board = services.views.dashboard(ctx)
    assert valid_approvers(board.incidents[0].hotfixes[0].approvals) == set()
