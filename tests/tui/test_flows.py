"""Pilot tests of each console flow against a real repository and database."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, TextArea

from hotfix_tui.tui.app import HotfixApp
from tests.helpers import git
from tests.tui.conftest import make_ctx, screen_text, settle, wait_for


def _ready_hotfix(shop, key="HF-1"):
    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    assert shop.cli("pick", key, shop.fix).code == 0
    assert shop.cli("edit", key, "--why", "Totals ignore quantity", "--risk", "Low",
                    "--test-plan", "Unit tests", "--rollback-plan", "Back to 1.4.1").code == 0
    for n in (1, 2):
        assert shop.cli("check", key, str(n)).code == 0


async def test_start_a_hotfix_and_pick_a_commit(shop, monkeypatch):
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    app = HotfixApp(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "Checkout totals wrong" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert type(app.screen).__name__ == "StartHotfixScreen"
        app.screen.query_one("#title", Input).value = "Fix checkout totals"
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: type(app.screen).__name__ == "PickCommitsScreen")
        await settle(pilot)
        await pilot.press("slash")
        for ch in "quantity":
            await pilot.press(ch)
        await pilot.press("enter")
        await settle(pilot)
        table = app.screen.query_one("#commits", DataTable)
        assert table.row_count == 1
        await pilot.press("space", "p")
        assert await wait_for(pilot, lambda: type(app.screen).__name__ == "HotfixScreen")
        await settle(pilot)
    shown = shop.cli("show", "HF-1", "--json").json()
    assert shown["title"] == "Fix checkout total" or shown["title"] == "Fix checkout totals"
    wt = Path(shown["worktree"])
    assert f"cherry picked from commit {shop.fix}" in git(wt, "log", "-1", "--format=%B")


async def _commit_list(app, pilot) -> DataTable:
    """Open HF-1's commit list from the dashboard; its table once loaded."""
    from hotfix_tui.tui.screens.start import PickCommitsScreen

    await settle(pilot)
    app.push_screen(PickCommitsScreen("HF-1"))
    await settle(pilot)
    return app.screen.query_one("#commits", DataTable)


async def test_a_conflicting_pick_reports_files_and_leaves_the_worktree_clean(shop,
                                                                              monkeypatch):
    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix").code == 0
    wt = Path(shop.cli("show", "HF-1", "--json").json()["worktree"])
    head = git(wt, "rev-parse", "HEAD")
    app = HotfixApp(make_ctx(shop.path, "alice", monkeypatch))
    async with app.run_test(size=(100, 30)) as pilot:
        table = await _commit_list(app, pilot)
        table.move_cursor(row=table.get_row_index(shop.conflicting))
        await pilot.press("p")
        assert await wait_for(pilot, lambda: any(
            "app/cart.py" in str(n.message) for n in app._notifications))
    assert git(wt, "rev-parse", "HEAD") == head
    assert git(wt, "status", "--porcelain") == ""


async def test_the_commit_list_shows_what_the_hotfix_lacks_and_a_key_shows_all(shop,
                                                                              monkeypatch):
    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix").code == 0
    assert shop.cli("pick", "HF-1", shop.fix).code == 0
    lacking = git(shop.path, "rev-list", f"{shop.fix}..main").split()
    everything = git(shop.path, "rev-list", "main").split()
    app = HotfixApp(make_ctx(shop.path, "alice", monkeypatch))
    async with app.run_test(size=(120, 30)) as pilot:
        table = await _commit_list(app, pilot)
        keys = [table.coordinate_to_cell_key((r, 0)).row_key.value
                for r in range(table.row_count)]
        assert keys == lacking  # like `git log HF-1..main`: no release commit, not the fix
        assert f"{len(lacking)} on main it lacks; 1 it has as a backport not shown" in \
            screen_text(app)
        await pilot.press("a")
        await settle(pilot)
        assert table.row_count == len(everything)
        text = screen_text(app)
        assert "in HF-1: cherry-picked as" in text and "[in the base]" in text
        assert f"{len(lacking)} not in HF-1 yet" in text
        await pilot.press("a")
        await settle(pilot)
        assert table.row_count == len(lacking)


async def test_edit_and_save_fields(shop, monkeypatch):
    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix").code == 0
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    app = HotfixApp(ctx, start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        why = app.screen.query_one("#f-why", TextArea)
        why.load_text("Totals ignore the quantity")
        await settle(pilot)
        assert "Overview *" in screen_text(app)
        assert "unsaved changes" in screen_text(app)
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: "Overview *" not in screen_text(app))
    assert shop.cli("show", "HF-1", "--json").json()["why"] == "Totals ignore the quantity"


async def test_tick_the_checklist(shop, monkeypatch):
    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix").code == 0
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    app = HotfixApp(ctx, start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.screen.query_one("#tabs").active = "scope"
        await settle(pilot)
        app.screen.query_one("#checklist", DataTable).focus()
        await pilot.press("space")
        assert await wait_for(pilot, lambda: shop.cli(
            "checklist", "HF-1", "--json").items()[0]["checked"])
    items = shop.cli("checklist", "HF-1", "--json").items()
    assert items[0]["checked_by"] == "alice" and not items[1]["checked"]


async def test_submit_refused_then_accepted(shop, monkeypatch):
    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix").code == 0
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    app = HotfixApp(ctx, start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "submit: " in text and "why is empty" in text
        await pilot.press("s")
        await settle(pilot)
        assert any("not ticked" in str(n.message) for n in app._notifications)
        assert shop.cli("show", "HF-1", "--json").json()["state"] == "draft"
        _ = [shop.cli("pick", "HF-1", shop.fix),
             shop.cli("edit", "HF-1", "--why", "w", "--risk", "r", "--test-plan", "t",
                      "--rollback-plan", "b"),
             shop.cli("check", "HF-1", "1"), shop.cli("check", "HF-1", "2")]
        assert await wait_for(pilot, lambda: app.screen.why_not("submit") is None)
        await pilot.press("s")
        assert await wait_for(pilot, lambda: shop.cli("show", "HF-1", "--json").json()[
            "state"] == "in_review")


async def test_approve_as_a_second_identity(shop, monkeypatch):
    _ready_hotfix(shop)
    assert shop.cli("submit", "HF-1").code == 0
    ctx = make_ctx(shop.path, "bob", monkeypatch)
    from hotfix_tui.tui.screens.review import ReviewScreen

    app = HotfixApp(ctx, start_screen=ReviewScreen())
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert "HF-1" in screen_text(app)
        await pilot.press("a")
        await settle(pilot)
        text = screen_text(app)
        assert "Approve HF-1?" in text and "head sha" in text and "app/checkout.py" in text
        assert app.focused.id == "cancel"
        await pilot.press("tab", "enter")
        assert await wait_for(pilot, lambda: shop.cli("show", "HF-1", "--json").json()[
            "state"] == "approved")
    approvals = shop.cli("show", "HF-1", "--json").json()["approvals"]
    assert approvals[0]["approver"] == "bob"


async def test_the_author_cannot_approve_and_is_told_why(shop, monkeypatch):
    _ready_hotfix(shop)
    assert shop.cli("submit", "HF-1").code == 0
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    app = HotfixApp(ctx, start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert app.screen.why_not("approve") == "you authored HF-1; the author can never " \
                                                "approve it"
        await pilot.press("a")
        await settle(pilot)
        assert any("you authored HF-1" in str(n.message) for n in app._notifications)
    assert shop.cli("show", "HF-1", "--json").json()["state"] == "in_review"


async def test_reject_needs_a_comment(shop, monkeypatch):
    _ready_hotfix(shop)
    assert shop.cli("submit", "HF-1").code == 0
    ctx = make_ctx(shop.path, "bob", monkeypatch)
    from hotfix_tui.tui.screens.review import ReviewScreen

    app = HotfixApp(ctx, start_screen=ReviewScreen())
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        app.screen.query_one("#text", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "cannot be empty" in screen_text(app)
        for ch in "Needs a test":
            await pilot.press(ch if ch != " " else "space")
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: shop.cli("show", "HF-1", "--json").json()[
            "state"] == "draft")
    approvals = shop.cli("show", "HF-1", "--json").json()["approvals"]
    assert approvals[-1]["decision"] == "rejected" and approvals[-1]["comment"] == "Needs a test"


async def test_readonly_refuses_changes(shop, monkeypatch):
    _ready_hotfix(shop)
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    app = HotfixApp(ctx, readonly=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "READ-ONLY" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert type(app.screen).__name__ == "DashboardScreen"
        assert any("read-only" in str(n.message) for n in app._notifications)
        from hotfix_tui.tui.screens.hotfix import HotfixScreen

        app.push_screen(HotfixScreen("HF-1"))
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert app.screen.query_one("#f-why", TextArea).disabled
    assert shop.cli("show", "HF-1", "--json").json()["state"] == "draft"


async def test_an_approval_from_another_process_appears_without_input(shop, monkeypatch):
    _ready_hotfix(shop)
    assert shop.cli("submit", "HF-1").code == 0
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    app = HotfixApp(ctx, start_screen=HotfixScreen("HF-1"), watch_interval=0.2)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "in_review" in screen_text(app)
        from tests.helpers import run_proc

        res = run_proc(["approve", "HF-1"], cwd=shop.path, env={"HOTFIX_ACTOR": "bob"})
        assert res.code == 0, res.err
        import time

        started = time.monotonic()
        assert await wait_for(pilot, lambda: "approved" in screen_text(app) and
                              "in_review" not in screen_text(app), timeout=2.0)
        assert time.monotonic() - started < 2.5
        assert any("approved by bob" in str(n.message) for n in app._notifications)


async def test_open_mitigate_and_resolve_an_incident(shop, monkeypatch):
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    app = HotfixApp(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        app.screen.query_one("#title", Input).value = "Search down"
        app.screen.query_one("#service", Input).value = "search"
        await pilot.click("#confirm")
        assert await wait_for(pilot, lambda: "Search down" in screen_text(app))
        table = app.screen.query_one("#board", DataTable)
        table.move_cursor(row=table.get_row_index("INC-2"))
        await pilot.press("m")
        assert await wait_for(pilot, lambda: shop.cli("incident", "show", "INC-2", "--json")
                              .json()["status"] == "mitigated")
        await pilot.press("r")
        await settle(pilot)
        assert "Resolve INC-2" in screen_text(app) and app.focused.id == "cancel"
        await pilot.press("tab", "enter")
        assert await wait_for(pilot, lambda: "Search down" not in screen_text(app))
    assert shop.cli("incident", "show", "INC-2", "--json").json()["status"] == "resolved"


async def test_keys_can_be_remapped_by_binding_id(shop, monkeypatch, tmp_path):
    conf = tmp_path / "xdg"
    (conf / "hotfix-tui").mkdir(parents=True)
    (conf / "hotfix-tui" / "keymap.toml").write_text('[keys]\nreview = "W"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(conf))
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    app = HotfixApp(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("W")
        await settle(pilot)
        assert type(app.screen).__name__ == "ReviewScreen"


async def test_the_command_palette_lists_actions_with_their_reasons(shop, monkeypatch):
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    app = HotfixApp(ctx)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert "New hotfix" in commands and "Review queue" in commands
        assert "unavailable" not in commands["New hotfix"]
        assert "unavailable: no environments configured" in commands["Rollback"]
    # a read-only console offers no change at all, not even dimmed
    app = HotfixApp(make_ctx(shop.path, "alice", monkeypatch), readonly=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert "Review queue" in commands and "History" in commands
        assert not {"New hotfix", "Rollback", "Mitigate", "Unlock"} & set(commands)


def test_toasts_concern_the_acting_user():
    from hotfix_tui.core.models import AuditEvent
    from hotfix_tui.tui.app import toasts_for

    def ev(action, actor="bob", after=None, entity="hotfix", before=None, **extra):
        key = "D-3" if entity == "deploy" else "HF-1"
        return AuditEvent(1, "t", actor, True, entity, key, action, before, after or {},
                          "INC-1", "HF-1", "", "", extra)

    toasts = toasts_for([
        ev("hotfix.submitted", head="abc"), ev("hotfix.approved", approvers=["bob"]),
        ev("hotfix.rejected", comment="no"),
        ev("deploy.failed", entity="deploy", after={"status": "failed", "env": "production",
                                                    "version": "1.4.2"}),
        ev("rollback.started", entity="deploy", after={"env": "production",
                                                       "version": "1.4.1"}),
        ev("approval.stale", entity="approval", before={"approver": "alice"},
           after={"reason": "head moved"}),
        ev("approval.stale", entity="approval", before={"approver": "carol"},
           after={"reason": "head moved"}),
        ev("hotfix.approved", actor="alice", approvers=["alice"]),
        ev("hotfix.edited"),
    ], "alice")
    texts = [t for t, _ in toasts]
    assert texts[:3] == ["HF-1 needs your review (submitted by bob)", "HF-1 approved by bob",
                         "HF-1 rejected by bob: no"]
    assert toasts[3] == ("D-3: deploy of 1.4.2 to production failed", "error")
    assert "rollback from None to 1.4.1 started by bob" in texts[4]
    assert toasts[5] == ("your approval of HF-1 went stale: head moved", "warning")
    assert len(toasts) == 6  # my own approval, carol's stale one and edits are not news


async def test_slash_filters_the_review_queue(shop, monkeypatch):
    _ready_hotfix(shop)
    assert shop.cli("submit", "HF-1").code == 0
    assert shop.cli("start", "--incident", "INC-1", "--title", "Other fix").code == 0
    assert shop.cli("pick", "HF-2", shop.fix).code == 0
    assert shop.cli("edit", "HF-2", "--why", "w", "--risk", "r", "--test-plan", "t",
                    "--rollback-plan", "b").code == 0
    for n in ("1", "2"):
        assert shop.cli("check", "HF-2", n).code == 0
    assert shop.cli("submit", "HF-2").code == 0
    ctx = make_ctx(shop.path, "bob", monkeypatch)
    from hotfix_tui.tui.screens.review import ReviewScreen

    app = HotfixApp(ctx, start_screen=ReviewScreen())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#queue", DataTable).row_count == 2
        await pilot.press("slash", "o", "t", "h", "e", "r", "enter")
        await settle(pilot)
        table = app.screen.query_one("#queue", DataTable)
        assert table.row_count == 1 and app.focused is table
        assert "HF-2" in screen_text(app) and "Fix totals" not in screen_text(app)


async def test_a_5000_line_diff_draws_only_what_is_visible(shop, monkeypatch):
    from tests.helpers import commit_file

    assert shop.cli("start", "--incident", "INC-1", "--title", "Big").code == 0
    wt = Path(shop.cli("show", "HF-1", "--json").json()["worktree"])
    commit_file(wt, "app/generated.py", "".join(f"value_{i} = {i}\n" for i in range(5000)),
                "A 5 000-line change")
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    from hotfix_tui.tui.screens.hotfix import HotfixScreen
    from hotfix_tui.tui.widgets.diffview import DiffView

    app = HotfixApp(ctx, start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        view = app.screen.query_one(DiffView)
        assert await wait_for(pilot, lambda: len(view.lines) > 5000)
        assert "+value_0 = 0" in screen_text(app)
        drawn = []
        original = view.render_line

        def counting(y):
            drawn.append(y)
            return original(y)

        view.render_line = counting
        view.focus()
        await pilot.press("end")
        await settle(pilot)
        assert "+value_4999 = 4999" in screen_text(app)
        assert 0 < len(set(drawn)) <= view.size.height  # only the visible lines were drawn


async def test_a_refused_submit_lists_every_reason(shop, monkeypatch):
    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix").code == 0
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    from hotfix_tui.tui.base import BaseScreen
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    app = HotfixApp(ctx, start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BaseScreen)
        from hotfix_tui import services

        screen.run_service("submit", lambda: services.submit(ctx, "HF-1"))
        await settle(pilot)
        message = next(str(n.message) for n in app._notifications
                       if str(n.message).startswith("submit refused\n"))
        lines = message.split("\n")[1:]
        assert len(lines) >= 5 and all(ln.startswith("• ") for ln in lines)
        assert any("why is empty" in ln for ln in lines)


async def test_keys_typed_in_one_burst_after_slash_land_in_the_filter(shop, monkeypatch):
    """`/` then typing, faster than the console draws (a paste, a slow link, a loaded
    bastion): every key lands in the filter, none in the list behind it."""
    from textual import events

    from hotfix_tui.tui.screens.start import PickCommitsScreen

    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    app = HotfixApp(make_ctx(shop.path, "alice", monkeypatch),
                    start_screen=PickCommitsScreen("HF-1"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.focused, DataTable)
        for key, char in [("slash", "/"), *[(c, c) for c in "cart"]]:
            event = events.Key(key, char)
            event.set_sender(app)
            app._driver.send_message(event)  # as the terminal delivers a burst
        await settle(pilot)
        assert app.screen.query_one("#filter", Input).value == "cart"
        assert isinstance(app.focused, Input)


async def test_a_console_opened_after_an_approval_does_not_announce_it(shop, monkeypatch):
    """What happened before the console opened is history, not news: no toast for it;
    what happens after still is."""
    _ready_hotfix(shop)
    assert shop.cli("submit", "HF-1").code == 0
    assert shop.cli("approve", "HF-1", actor="bob").code == 0
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    app = HotfixApp(ctx, watch_interval=0.1)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert shop.cli("incident", "note", "INC-1", "looking", actor="carol").code == 0
        assert await wait_for(pilot, lambda: app.screen.data is not None)
        # the watcher has looked since (a later change arrived as a reload) ...
        assert shop.cli("incident", "open", "--title", "Later", "--sev", "3",
                        actor="carol").code == 0
        assert await wait_for(pilot, lambda: "Later" in screen_text(app))
        texts = [str(n.message) for n in app._notifications]
        assert not any("approved by bob" in t for t in texts), texts


async def test_the_diff_shows_a_new_commit_to_the_same_file(shop, monkeypatch):
    """A reviewer reads the Diff tab; the author commits again to the same file. The
    files list is the same, with new counts: the diff shown must be the new one, never
    the one the counts no longer describe."""
    from hotfix_tui import services
    from hotfix_tui.tui.screens.hotfix import HotfixScreen
    from hotfix_tui.tui.widgets.diffview import DiffView

    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    wt = Path(services.get_hotfix(ctx, "HF-1").worktree)
    source = wt / "app" / "checkout.py"
    source.write_text(source.read_text() + "\n# FIRST CHANGE\n")
    git(wt, "commit", "-qam", "first")

    def diff() -> str:
        return "\n".join(text for _, text in app.screen.query_one(DiffView).lines)

    app = HotfixApp(ctx, start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_for(pilot, lambda: "FIRST CHANGE" in diff())
        source.write_text(source.read_text() + "# SECOND CHANGE\n")
        git(wt, "commit", "-qam", "second")
        app.screen.reload()
        assert await wait_for(pilot, lambda: "SECOND CHANGE" in diff()), diff()
