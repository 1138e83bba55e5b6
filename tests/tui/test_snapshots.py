"""Snapshots of the main screens at 80x24, 60x20 and 160x48, on fixed data with frozen
time.

Update on purpose with `pytest tests/tui/test_snapshots.py --snapshot-update` and review
the SVG diff.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotfix_tui import services
from hotfix_tui.tui.app import HotfixApp
from tests.helpers import make_service_repo
from tests.tui.conftest import FROZEN, TUI_CONFIG, settle

SIZES = [(80, 24), (60, 20), (160, 48)]
FIXED_DATE = "2026-11-20T10:00:00+00:00"


class Clock:
    """Moves 7 s per reading while the data is made; frozen while the app is shown, so
    however many times a screen reloads, it shows the same ages."""

    def __init__(self) -> None:
        self.t = FROZEN
        self.frozen = False

    def __call__(self):
        if not self.frozen:
            self.t += timedelta(seconds=7)
        return self.t


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A repository and database whose every byte is the same on every run."""
    monkeypatch.setenv("GIT_AUTHOR_DATE", FIXED_DATE)
    monkeypatch.setenv("GIT_COMMITTER_DATE", FIXED_DATE)
    monkeypatch.setenv("TZ", "UTC")
    repo = make_service_repo(tmp_path / "shop", config=TUI_CONFIG).path
    clock = Clock()

    def ctx(actor):
        monkeypatch.setenv("HOTFIX_ACTOR", actor)
        return services.open_context(repo=repo, clock=clock)

    alice = ctx("alice")
    inc = services.open_incident(alice, "Checkout totals wrong for multi-item carts", 1,
                                 "checkout")
    services.open_incident(alice, "Search slow for long queries", 3, "search")
    services.start_hotfix(alice, inc.key, "Fix checkout total ignoring quantity")
    from tests.helpers import git

    fix = git(repo, "log", "--format=%H", "--grep", "Fix checkout total", "-n1")
    services.pick(alice, "HF-1", [fix])
    services.edit(alice, "HF-1", why="Totals ignore the item quantity since 1.4.1.",
                  risk="Low: one expression in one function.",
                  test_plan="Unit test for multi-quantity carts; health check.",
                  rollback_plan="Roll production back to 1.4.1.")
    services.check(alice, "HF-1", 1)
    services.check(alice, "HF-1", 2)
    services.submit(alice, "HF-1")
    services.start_hotfix(alice, inc.key, "Second attempt (draft)")
    return repo, ctx, clock


def _app(world, actor="alice", start=None):
    repo, ctx, clock = world
    clock.frozen = True
    c = ctx(actor)
    return HotfixApp(c, start_screen=start() if start else None, watch_interval=3600)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard(snap_compare, world, size):
    async def ready(pilot):
        await settle(pilot)

    assert snap_compare(_app(world), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("tab", ["overview", "scope", "diff", "approvals", "timeline"])
def test_hotfix_tabs(snap_compare, world, size, tab):
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    async def ready(pilot):
        await settle(pilot)
        pilot.app.screen.query_one("#tabs").active = tab
        await settle(pilot)

    app = _app(world, "bob", start=lambda: HotfixScreen("HF-1"))
    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_review_confirmation(snap_compare, world, size):
    from hotfix_tui.tui.screens.review import ReviewScreen

    async def ready(pilot):
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)

    app = _app(world, "bob", start=ReviewScreen)
    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare, world, size):
    async def ready(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(_app(world), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_in_a_readonly_console(snap_compare, world, size):
    """Only what a read-only console offers: no write key in the footer or the help."""
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    async def ready(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    repo, ctx, clock = world
    clock.frozen = True
    app = HotfixApp(ctx("carol"), readonly=True, start_screen=HotfixScreen("HF-1"),
                    watch_interval=3600)
    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_row_in_full(snap_compare, world, size):
    async def ready(pilot):
        await settle(pilot)
        await pilot.press("down", "i")
        await settle(pilot)

    assert snap_compare(_app(world), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_an_input_dialog_with_text_typed(snap_compare, world, size):
    """Reject's comment: the dialog opens in its input, the text typed is there and the
    input shows it has focus."""
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    async def ready(pilot):
        await settle(pilot)
        await pilot.press("x", *"needs a test")
        await settle(pilot)

    app = _app(world, "bob", start=lambda: HotfixScreen("HF-1"))
    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_ticks_become_one_toast_above_the_footer(snap_compare, world, size):
    """Both manual items ticked on the draft's Scope tab: one toast, above the footer,
    the checklist and the reasons left readable."""
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    async def ready(pilot):
        await settle(pilot)
        await pilot.press("2", "space", "j", "space")
        await settle(pilot)

    app = _app(world, "alice", start=lambda: HotfixScreen("HF-2"))
    assert snap_compare(app, terminal_size=size, run_before=ready)
