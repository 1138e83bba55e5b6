"""Every refusal reads the same in every face: the CLI's error, the console's footer (the
action dimmed), the command palette, help's "now" column, and the note a key press shows.

The expected words come from the refusal source itself (services.refusals), so the test
iterates it: a refusal added there without a case here fails the last test.
"""

from __future__ import annotations

import pytest
from textual.binding import Binding
from textual.widgets import DataTable

from hotfix_tui import services
from hotfix_tui.core.models import IncidentStatus
from hotfix_tui.services import refusals
from hotfix_tui.tui.app import HotfixApp
from hotfix_tui.tui.screens.dashboard import DashboardScreen
from hotfix_tui.tui.screens.deploy import DeployScreen
from hotfix_tui.tui.screens.hotfix import HotfixScreen
from hotfix_tui.tui.widgets.help import HelpScreen
from tests.integration.deploy_helpers import approved_hotfix, deploy_repo
from tests.tui.conftest import make_ctx, settle

PROD = "production"


def _hf(ctx):
    return services.get_hotfix(ctx, "HF-1")


def _with_store(fn):
    def reasons(ctx):
        with ctx.reading() as store:
            return fn(ctx, store)
    return reasons


def _submit(ctx):
    hf = services.show(ctx, "HF-1")
    return refusals.submit(hf, list(hf.checklist), services.scope(ctx, "HF-1").commits)


def _finish(ctx):
    with ctx.reading() as store:
        return refusals.finish(ctx, store, store.one("SELECT * FROM hotfixes WHERE id = 1"))


# action → (world, actor, screen, the CLI's arguments, the refusal source's reasons)
CASES = {
    "submit": ("draft", "alice", lambda: HotfixScreen("HF-1"), ["submit", "HF-1"], _submit),
    "deploy": ("draft", "alice", lambda: HotfixScreen("HF-1"), ["deploy", "HF-1"],
               _with_store(lambda c, s: refusals.deploy(c, s, _hf(c), c.config.env(PROD)))),
    "approve": ("in_review", "alice", lambda: HotfixScreen("HF-1"), ["approve", "HF-1"],
                lambda c: refusals.approve(_hf(c), c.actor, c.approval_policy)),
    "reject": ("in_review", "alice", lambda: HotfixScreen("HF-1"),
               ["reject", "HF-1", "--comment", "no"],
               lambda c: refusals.reject(_hf(c), c.actor, c.approval_policy)),
    "verify": ("approved", "alice", lambda: HotfixScreen("HF-1"), ["verify", "HF-1"],
               lambda c: refusals.verify(_hf(c), PROD, None)),
    "finish": ("approved", "alice", lambda: HotfixScreen("HF-1"), ["finish", "HF-1"], _finish),
    "save": ("abandoned", "alice", lambda: HotfixScreen("HF-1"),
             ["edit", "HF-1", "--why", "because"],
             lambda c: refusals.edit("HF-1", _hf(c).state)),
    "pick": ("abandoned", "alice", lambda: HotfixScreen("HF-1"), ["pick", "HF-1", "HEAD"],
             lambda c: refusals.pick(_hf(c), worktree_missing=True)),
    "break_glass": ("abandoned", "alice", lambda: HotfixScreen("HF-1"),
                    ["deploy", "HF-1", "--break-glass", "site down"],
                    _with_store(lambda c, s: refusals.break_glass(c, s, _hf(c),
                                                                  c.config.env(PROD)))),
    "rollback": ("fresh", "alice", DashboardScreen, ["rollback", "--reason", "drill"],
                 _with_store(lambda c, s: refusals.rollback(c, s, PROD))),
    "cancel_run": ("ran", "alice", lambda: DeployScreen("D-1"), ["cancel", "D-1"],
                   _with_store(lambda c, s: refusals.cancel(s, s.one(
                       "SELECT * FROM deploys WHERE id = 1")))),
    "mitigate": ("mitigated", "alice", DashboardScreen, ["incident", "mitigate", "INC-1"],
                 lambda c: refusals.incident_status(services.get_incident(c, "INC-1"),
                                                    IncidentStatus.MITIGATED)),
    "unlock": ("ran", "alice", lambda: DeployScreen("D-1"),
               ["unlock", "--env", "scripted", "--reason", "fine"],
               _with_store(lambda c, s: refusals.unlock(s, "scripted"))),
}


def _make_world(svc, world: str) -> None:
    if world == "fresh":
        return
    if world == "mitigated":
        assert svc.cli("incident", "mitigate", "INC-1").code == 0
        return
    if world in ("approved", "ran"):
        approved_hotfix(svc)
        if world == "ran":
            assert svc.cli("deploy", "HF-1", "--env", "scripted").code == 0
        return
    assert svc.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    if world == "abandoned":
        assert svc.cli("abandon", "HF-1", "--reason", "wrong fix").code == 0
    if world != "in_review":
        return
    assert svc.cli("pick", "HF-1", svc.fix).code == 0
    assert svc.cli("edit", "HF-1", "--why", "w", "--risk", "r", "--test-plan", "t",
                   "--rollback-plan", "b").code == 0
    for n in ("1", "2"):
        assert svc.cli("check", "HF-1", n).code == 0
    assert svc.cli("submit", "HF-1").code == 0


def _binding(screen, action: str) -> Binding:
    return next(b for b in type(screen).BINDINGS if isinstance(b, Binding)
                and b.action == action)


async def _help_now(pilot, screen, description: str) -> str:
    app = pilot.app
    app.push_screen(HelpScreen(screen))
    await settle(pilot)
    table = app.screen.query_one("#keys", DataTable)
    rows = [table.get_row_at(i) for i in range(table.row_count)]
    app.pop_screen()
    await settle(pilot)
    return next(str(r[2]) for r in rows if str(r[1]) == description)


@pytest.mark.parametrize("world", sorted({c[0] for c in CASES.values()}))
async def test_refusals_read_the_same_in_the_cli_and_every_console_face(tmp_path, monkeypatch,
                                                                        world):
    svc = deploy_repo(tmp_path)
    _make_world(svc, world)
    for action, (w, actor, make_screen, argv, source) in CASES.items():
        if w != world:
            continue
        ctx = make_ctx(svc.path, actor, monkeypatch)
        reasons = source(ctx)
        assert reasons, f"{action}: the world should refuse it"
        why = "; ".join(reasons)

        res = svc.cli(*argv, actor=actor)
        lines = [ln for ln in res.err.splitlines() if ln.startswith("error: ")]
        assert res.code == 1 and len(lines) == 1, (action, res.err)
        assert lines[0].endswith(f"refused: {why}"), (action, lines[0])

        app = HotfixApp(make_ctx(svc.path, actor, monkeypatch), start_screen=make_screen())
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = app.screen
            binding = _binding(screen, action)
            assert screen.why_not(action) == why, action
            assert screen.check_action(action, ()) is None, action  # dimmed in the footer
            palette = {c.title: c.help for c in app.get_system_commands(screen)}
            assert palette[binding.description].endswith(f"unavailable: {why}"), action
            assert await _help_now(pilot, screen, binding.description) == \
                f"unavailable: {why}", action
            await pilot.press(binding.key.split(",")[0])
            await settle(pilot)
            notes = [str(n.message) for n in app._notifications]
            assert f"{binding.description}: {why}" in notes, (action, notes)


def test_every_refusal_of_the_source_is_checked_in_every_face():
    assert set(CASES) == set(refusals.ACTIONS)
