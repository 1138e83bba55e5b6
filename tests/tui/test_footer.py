"""The history browser's footer (widgets/footer.py) shows and hides its keys as the
focus moves between the search box and the results, without rebuilding itself, and
looks exactly like a footer built from scratch for the same keys."""

from __future__ import annotations

from textual.widgets import Input
from textual.widgets._footer import FooterKey

from hotfix_tui.tui.app import HotfixApp
from hotfix_tui.tui.screens.history import HistoryScreen
from hotfix_tui.tui.widgets.fittable import FitTable
from hotfix_tui.tui.widgets.footer import KeysFooter
from tests.tui.conftest import make_ctx, screen_text, settle


def _footer_line(app) -> str:
    return screen_text(app).rstrip("\n").splitlines()[-1]


def _shown(app) -> list[str]:
    return [k.key for k in app.screen.query(FooterKey) if k.display]


async def test_the_footer_follows_the_focus_without_rebuilding(shop, monkeypatch):
    for title in ("Fix totals", "Refund twice"):
        assert shop.cli("start", "--incident", "INC-1", "--title", title).code == 0
    app = HotfixApp(make_ctx(shop.path, "alice", monkeypatch), readonly=True,
                    start_screen=HistoryScreen())
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        footer = screen.query_one(KeysFooter)
        table = screen.query_one("#history", FitTable)
        assert app.focused is table
        on_results = _shown(app)
        assert {"slash", "e", "question_mark", "escape"} <= set(on_results)
        keys = list(screen.query(FooterKey))
        results_line = _footer_line(app)

        screen.set_focus(screen.query_one("#query", Input))  # typing: printable keys type
        await settle(pilot)
        in_box = _shown(app)
        assert "e" not in in_box and "question_mark" not in in_box and "escape" in in_box
        box_line = _footer_line(app)
        assert list(screen.query(FooterKey)) == keys  # the same keys, some hidden
        footer.refresh(recompose=True)  # what a footer built from scratch shows now
        await settle(pilot)
        assert _footer_line(app) == box_line and _shown(app) == in_box

        screen.set_focus(table)  # (that footer had fewer keys: it is built again)
        await settle(pilot)
        assert _shown(app) == on_results and _footer_line(app) == results_line
        keys = list(screen.query(FooterKey))
        for _ in range(2):
            await pilot.press("slash")  # into the box, and back to the results
            await settle(pilot)
            assert _shown(app) == in_box and _footer_line(app) == box_line
            screen.set_focus(table)
            await settle(pilot)
        assert list(screen.query(FooterKey)) == keys  # back and forth: never rebuilt
        assert _footer_line(app) == results_line
