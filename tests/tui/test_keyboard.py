"""The keyboard flow: keys typed in one burst go where the screen is going, input dialogs
take typing at once and `enter` there never cancels, `esc` then a key typed at once is
both keys, and the focused widget is visible in 16 and 256 colours."""

from __future__ import annotations

import time

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.widgets import Button, DataTable, Input, Select, SelectionList, Static, TextArea

from hotfix_tui.tui.app import HotfixApp
from hotfix_tui.tui.keys import EscapeFirstParser
from hotfix_tui.tui.messages import OpenRun
from hotfix_tui.tui.screens.dashboard import DashboardScreen
from hotfix_tui.tui.screens.deploy import DeployScreen
from hotfix_tui.tui.screens.hotfix import HotfixScreen
from tests.integration.deploy_helpers import (
    approved_hotfix,
    deploy_repo,
    kill_every_command,
    submitted_hotfix,
)
from tests.tui.conftest import make_ctx, screen_text, settle, wait_for

KEYS = {"tab", "shift+tab", "enter", "escape", "space", "up", "down", "ctrl+s", "end"}
CHECKED = """
[environments.checked]
deploy = ["./ops/deploy.sh", "{version}", "{short_sha}"]
verify = ["./ops/verify.sh", "/"]
verify_items = ["Error rate back to baseline"]
"""


def burst(app, *parts: str) -> None:
    """Keys and text as a terminal delivers a burst: every key queued at once, none
    waiting for the one before to have had its effect."""
    for part in parts:
        chars = [(part, {"tab": "\t", "enter": "\r", "escape": "\x1b", "space": " "}.get(
            part))] if part in KEYS else [
            (c if c.isalnum() else _character_to_key(c), c) for c in part]
        for key, char in chars:
            event = events.Key(key, char)
            event.set_sender(app)
            app._driver.send_message(event)


async def until(pilot, predicate, timeout: float = 60.0) -> bool:
    """wait_for with room for a loaded machine: it polls, and fails only if the state
    never comes."""
    return await wait_for(pilot, predicate, timeout)


def _name(app) -> str:
    return type(app.screen).__name__


@pytest.fixture
def svc(tmp_path):
    s = deploy_repo(tmp_path, extra_config=CHECKED)
    yield s
    kill_every_command(s)


# ---- type-ahead -----------------------------------------------------------------------

async def test_a_burst_across_fields_files_each_text_under_its_field(shop, monkeypatch):
    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    app = HotfixApp(make_ctx(shop.path, "alice", monkeypatch),
                    start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, "1", "tab", "why text", "tab", "risk text", "tab", "test text", "tab",
              "rollback text", "ctrl+s", "escape", "2")
        assert await until(pilot, lambda: app.screen.query_one("#tabs").active == "scope")
        values = {n: app.screen.query_one(f"#f-{n}", TextArea).text
                  for n in ("why", "risk", "test_plan", "rollback_plan")}
        assert values == {"why": "why text", "risk": "risk text", "test_plan": "test text",
                          "rollback_plan": "rollback text"}
        assert await until(pilot, lambda: shop.cli("show", "HF-1", "--json").json()[
            "test_plan"] == "test text")


async def test_keys_typed_before_a_screen_opens_reach_it(shop, monkeypatch):
    """`n`, a title and `enter` in one burst: the form opens (and loads its releases),
    takes the title, starts the hotfix, and the commit list it opens gets `/` and the
    filter typed after."""
    app = HotfixApp(make_ctx(shop.path, "alice", monkeypatch))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, "n", "Fix totals quickly", "enter", "/", "totals")
        assert await until(pilot, lambda: _name(app) == "PickCommitsScreen"
                           and app.screen.query_one("#filter", Input).value == "totals")
        assert shop.cli("show", "HF-1", "--json").json()["title"] == "Fix totals quickly"


async def test_keys_typed_while_a_dialog_is_prepared_reach_the_dialog(svc, monkeypatch):
    """`d` prepares the deploy dialog in a thread; `enter` typed with it deploys to the
    environment it preselects: the next of the release path (production goes last)."""
    approved_hotfix(svc)
    app = HotfixApp(make_ctx(svc.path, "alice", monkeypatch),
                    start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, "d", "enter")
        assert await until(pilot, lambda: _name(app) == "DeployScreen")
        assert await until(pilot, lambda: "succeeded" in screen_text(app))
    runs = svc.cli("deploys", "--json").items()
    assert [(r["env"], r["status"]) for r in runs] == [("scripted", "succeeded")]


def test_escape_then_a_key_typed_at_once_is_both_keys():
    """A terminal sends `esc` then `q` typed together as ESC q, which reads as alt+q (and
    ESC f as ctrl+right, ESC 2 as ™); the console binds no alt key: it is esc, then q."""
    def keys(data: str) -> list[str]:
        parser = EscapeFirstParser()
        return [e.key for e in [*parser.feed(data), *parser.feed("")]
                if isinstance(e, events.Key)]

    assert keys("\x1bq") == ["escape", "q"]
    assert keys("\x1bf") == ["escape", "f"]
    assert keys("\x1b2") == ["escape", "2"]
    assert keys("\x1b/") == ["escape", "slash"]
    assert keys("\x1b\x1b") == ["escape", "escape"]
    # escape sequences are still what they were
    assert keys("\x1b[A") == ["up"]
    assert keys("\x1b[1;5C") == ["ctrl+right"]
    assert keys("\x1bOP") == ["f1"]


@pytest.mark.parametrize("driver", ["", "textual.drivers.web_driver:WebDriver"])
def test_the_parser_is_installed_in_the_driver_textual_will_use(driver):
    """The terminal's driver reads keys with EscapeFirstParser; so does the browser's
    (hotfix serve: textual-serve names it in TEXTUAL_DRIVER), which is loaded only
    then, not before every console's first frame."""
    import os
    import subprocess
    import sys

    probe = ("import sys; from hotfix_tui.tui import keys; keys.install(); "
             "from textual.drivers import linux_driver as l; "
             "w = sys.modules.get('textual.drivers.web_driver'); "
             "print(l.XTermParser is keys.EscapeFirstParser, "
             "None if w is None else w.XTermParser is keys.EscapeFirstParser)")
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_DRIVER"}
    if driver:
        env["TEXTUAL_DRIVER"] = driver
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                         text=True, timeout=60, check=True).stdout.split()
    assert out == (["True", "True"] if driver else ["True", "None"])


# ---- input dialogs ------------------------------------------------------------------------

def _world(svc, which: str) -> None:
    if which in ("rollback", "unlock", "lock"):
        approved_hotfix(svc)
        assert svc.cli("deploy", "HF-1", "--env", "production").code == 0
        if which == "unlock":
            assert svc.cli("lock", "--env", "production", "--reason", "freeze").code == 0
    elif which == "verify":
        approved_hotfix(svc)
        assert svc.cli("deploy", "HF-1", "--env", "checked").code == 0
    elif which in ("reject", "break_glass"):
        submitted_hotfix(svc)


# (world, actor, screen, the key that opens it, what to type, where it must land)
DIALOGS = {
    "rollback": ("alice", DashboardScreen, "R", "production", "#typed"),
    "unlock": ("alice", DashboardScreen, "u", "cause addressed", "#text"),
    "lock": ("alice", DashboardScreen, "l", "change freeze", "#text"),
    "verify": ("alice", lambda: DeployScreen("D-1"), "v", "space", "#items"),
    "reject": ("bob", lambda: HotfixScreen("HF-1"), "x", "needs a unit test", "#text"),
    "break_glass": ("alice", lambda: HotfixScreen("HF-1"), "B", "production", "#typed"),
}


@pytest.mark.parametrize("which", sorted(DIALOGS))
async def test_an_input_dialog_takes_typing_at_once_and_enter_never_cancels(svc, monkeypatch,
                                                                          which):
    actor, make_screen, key, typed, field = DIALOGS[which]
    _world(svc, which)
    app = HotfixApp(make_ctx(svc.path, actor, monkeypatch), start_screen=make_screen())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, key, typed)  # typed before the dialog is even there
        assert await until(pilot, lambda: app.screen.is_modal
                              and app.screen.query(field) and app.focused is not None
                              and app.focused.id == field[1:])
        widget = app.screen.query_one(field)
        if isinstance(widget, SelectionList):
            assert list(widget.selected) == [1]  # space ticked the first item
            return
        assert widget.value == typed
        dialog = app.screen
        # enter with something missing says what, and the dialog stays
        if field == "#typed":
            burst(app, "enter")  # the right name: on to the reason
            await settle(pilot)
            assert app.focused.id == "reason" and app.screen is dialog
            burst(app, "enter")  # no reason: refused, said, still open
        else:
            widget.value = ""
            burst(app, "enter")
        await settle(pilot)
        assert app.screen is dialog
        problem = str(dialog.query_one("#problem").render())
        assert "refused" in problem, problem
        # and once what is asked is there, enter does what the dialog is for
        burst(app, "drill reason" if field == "#typed" else typed, "enter")
        assert await until(pilot, lambda: app.screen is not dialog)
    assert await_effect(lambda: DONE[which](svc)), f"{which}: enter did not do it"


def await_effect(check, timeout: float = 60.0) -> bool:
    """Poll the record (through the CLI) until `check` holds: a run started by the dialog
    is written by its own process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def _status(svc, env: str) -> dict:
    return next(e for e in svc.cli("status", "--json").items() if e["env"] == env)


def _runs(svc) -> list:
    return svc.cli("deploys", "--json").items()


# what each dialog, confirmed with enter, must have done (read back through the CLI)
DONE = {
    "rollback": lambda svc: any(r["kind"] == "rollback" for r in _runs(svc)),
    "unlock": lambda svc: not _status(svc, "production")["locked"],
    "lock": lambda svc: _status(svc, "production")["lock_reason"] == "change freeze",
    "reject": lambda svc: svc.cli("show", "HF-1", "--json").json()["state"] == "draft",
    "break_glass": lambda svc: any(r["break_glass"] for r in _runs(svc)),
}


async def _verify_from_the_deploy_pane(pilot, app, *keys: str) -> None:
    """Open D-1's log, type `keys` at once, and see the verify run D-2 take its place."""
    await settle(pilot)
    app.post_message(OpenRun("D-1"))
    assert await until(pilot, lambda: _name(app) == "DeployScreen")
    burst(app, *keys)
    assert await until(pilot, lambda: _name(app) == "DeployScreen"
                       and app.screen.key == "D-2")


async def test_enter_in_the_verify_dialog_runs_the_check_and_esc_goes_back_to_the_hotfix(
        svc, monkeypatch):
    """From a deploy's log, `v` `space` `enter` ticks the item and runs the check; its
    log replaces the deploy's, so one `esc` is back where the deploy was started."""
    _world(svc, "verify")
    app = HotfixApp(make_ctx(svc.path, "alice", monkeypatch),
                    start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(80, 24)) as pilot:
        await _verify_from_the_deploy_pane(pilot, app, "v", "space", "enter")
        assert [type(s).__name__ for s in app.screen_stack[1:]] == ["HotfixScreen",
                                                                    "DeployScreen"]
        assert await until(pilot, lambda: "succeeded" in screen_text(app))
        burst(app, "escape", "f")  # f reaches the hotfix (finish: refused, and says why)
        assert await until(pilot, lambda: any(
            str(n.message).startswith("Finish: ") for n in app._notifications))
        assert _name(app) == "HotfixScreen"
    from hotfix_tui import services

    items = services.verify_items(make_ctx(svc.path, "alice", monkeypatch), "HF-1", "checked")
    assert [i.checked for i in items] == [True]
    runs = svc.cli("deploys", "--json").items()
    assert [(r["key"], r["kind"], r["status"]) for r in runs][0] == ("D-2", "verify",
                                                                     "succeeded")


async def test_a_verify_dialog_without_items_runs_the_check_on_enter(tmp_path, monkeypatch):
    """With nothing to tick, the dialog starts on its action: `v` `enter` runs the check
    (before, focus sat on Cancel and enter closed the dialog, silently)."""
    svc = deploy_repo(tmp_path, extra_config=CHECKED.replace(
        'verify_items = ["Error rate back to baseline"]\n', ""))
    try:
        _world(svc, "verify")
        app = HotfixApp(make_ctx(svc.path, "alice", monkeypatch),
                        start_screen=HotfixScreen("HF-1"))
        async with app.run_test(size=(80, 24)) as pilot:
            await _verify_from_the_deploy_pane(pilot, app, "v", "enter")
            assert await until(pilot, lambda: "succeeded" in screen_text(app))
        runs = svc.cli("deploys", "--json").items()
        assert (runs[0]["key"], runs[0]["kind"], runs[0]["status"]) == ("D-2", "verify",
                                                                        "succeeded")
    finally:
        kill_every_command(svc)


async def _deploy_dialog(pilot, app):
    """`d` on the hotfix screen, once it is shown: the deploy dialog."""
    await settle(pilot)
    burst(app, "d")
    assert await until(pilot, lambda: _name(app) == "DeployModal")
    return app.screen


async def test_the_deploy_dialog_says_enter_deploys_only_where_it_does(svc, monkeypatch):
    approved_hotfix(svc)
    assert svc.cli("lock", "--env", "production", "--reason", "db migration").code == 0
    app = HotfixApp(make_ctx(svc.path, "alice", monkeypatch),
                    start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(80, 24)) as pilot:
        modal = await _deploy_dialog(pilot, app)
        keys = modal.query_one("#keys", Static)
        env = modal.query_one("#env", Select)
        assert env.value == "scripted" and not modal.query_one("#confirm", Button).disabled
        assert str(keys.render()).startswith("enter deploys")
        # space opens the list, the arrows go to production, enter chooses it (never deploys
        # the environment chosen before): locked, refused, and the line says so
        order = list(modal.previews)
        steps = order.index("production") - order.index("scripted")
        for key in ("space", *["down" if steps > 0 else "up"] * abs(steps), "enter"):
            burst(app, key)
            await settle(pilot)
        assert env.value == "production" and app.screen is modal
        assert await until(pilot, lambda: str(keys.render()).startswith("refused (above)"))
        assert modal.query_one("#confirm", Button).disabled
        assert "LOCKED" in str(modal.query_one("#summary", Static).render()).upper()
    assert svc.cli("deploys", "--json").items() == []


async def test_a_pure_confirmation_starts_on_cancel_a_choice_in_the_choice(svc, monkeypatch):
    approved_hotfix(svc)
    app = HotfixApp(make_ctx(svc.path, "alice", monkeypatch),
                    start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(80, 24)) as pilot:
        await _deploy_dialog(pilot, app)
        assert isinstance(app.focused, Select)  # the environment: `enter` deploys
    assert svc.cli("reject", "HF-1", "--comment", "again", actor="carol").code == 0
    assert svc.cli("submit", "HF-1").code == 0
    app = HotfixApp(make_ctx(svc.path, "bob", monkeypatch), start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        burst(app, "a")  # approving is a yes/no: it starts on Cancel, so enter cancels
        assert await until(pilot, lambda: _name(app) == "ConfirmModal")
        assert app.focused.id == "cancel"
        burst(app, "enter")
        assert await until(pilot, lambda: _name(app) == "HotfixScreen")
    assert svc.cli("show", "HF-1", "--json").json()["state"] == "in_review"


# ---- focus is visible in 16 and 256 colours --------------------------------------------

def _look(widget) -> list:
    """What shows of `widget` whatever the colours: each cell's text and attributes.
    Two greys that differ in truecolor are one colour in 16 colours and nearly one in
    256; a focus ring must show without them (a mark, a heavier border, reverse)."""
    region = widget.region  # on the screen, children and all
    strips = widget.screen._compositor.render_strips()
    out = []
    for strip in strips[region.y:region.bottom]:
        for seg in strip.crop(region.x, region.right):
            st = seg.style
            out.append((seg.text, bool(st and st.bold), bool(st and st.reverse),
                        bool(st and st.underline)))
    return out


async def _focused_and_not(pilot, widget, other) -> tuple[list, list]:
    """How `widget` looks focused, then with `other` focused."""
    widget.focus()
    await settle(pilot)
    focused = _look(widget)
    other.focus()
    await settle(pilot)
    assert pilot.app.focused is other
    return focused, _look(widget)


async def test_the_focused_widget_shows_in_16_and_256_colours(svc, monkeypatch):
    approved_hotfix(svc)
    app = HotfixApp(make_ctx(svc.path, "alice", monkeypatch),
                    start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        why, risk = screen.query_one("#f-why", TextArea), screen.query_one("#f-risk", TextArea)
        title = screen.query_one("#f-title", Input)
        for widget, other in ((why, risk), (title, why)):
            focused, blurred = await _focused_and_not(pilot, widget, other)
            assert focused != blurred, widget
        screen.query_one("#tabs").active = "deploys"
        await settle(pilot)
        table = screen.query_one("#deploy-table", DataTable)
        tabs = screen.query_one("#tabs").query_one("Tabs")
        for widget, other in ((table, tabs), (tabs, table)):
            focused, blurred = await _focused_and_not(pilot, widget, other)
            assert focused != blurred, widget
        modal = await _deploy_dialog(pilot, app)
        cancel, deploy = modal.query_one("#cancel", Button), modal.query_one("#confirm", Button)
        env = modal.query_one("#env", Select)
        for widget, other in ((cancel, deploy), (deploy, cancel), (env, cancel)):
            focused, blurred = await _focused_and_not(pilot, widget, other)
            assert focused != blurred, widget
