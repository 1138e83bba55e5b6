"""The console and hooks: consoles deliver events (each once, however many are open), and
tell their user what the hooks of their own events did."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from textual.widgets import DataTable

from hotfix_tui import services
from hotfix_tui.tui.app import HotfixApp
from tests.helpers import GIT_ENV, make_service_repo
from tests.integration.hook_helpers import (
    db_of,
    deliveries,
    record_argv,
    recorded,
    recorder,
    wait_delivered,
)
from tests.tui.conftest import TUI_CONFIG, make_ctx, settle, wait_for

# A console with nobody at the keyboard: the real app, headless, in its own process.
CONSOLE = """\
import sys
from hotfix_tui import services
from hotfix_tui.tui.app import HotfixApp
HotfixApp(services.open_context(repo=sys.argv[1]), watch_interval=0.1).run(headless=True)
"""


def _console(repo: Path, actor: str, script: Path) -> subprocess.Popen:
    env = {**os.environ, **GIT_ENV, "HOTFIX_ACTOR": actor}
    return subprocess.Popen([sys.executable, str(script), str(repo)], cwd=repo, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def test_two_consoles_and_a_cli_deliver_each_event_once(tmp_path, monkeypatch):
    script, out = recorder(tmp_path)
    shop = make_service_repo(tmp_path / "shop", config=TUI_CONFIG + "\n[hooks]\n"
                             f'"*" = {record_argv(script, out, "all")}\n')
    db = db_of(shop.path)
    assert shop.cli("incident", "open", "--title", "Before the consoles", "--sev", "2").code == 0
    wait_delivered(db)
    console_py = tmp_path / "console.py"
    console_py.write_text(CONSOLE)
    consoles = [_console(shop.path, actor, console_py) for actor in ("alice", "bob")]
    try:
        # changes that nobody hands on but the consoles (as a runner that died would leave)
        monkeypatch.setenv("HOTFIX_ACTOR", "carol")
        ctx = services.open_context(repo=shop.path)
        services.open_incident(ctx, "Seen by the consoles", 1)
        wait_delivered(db)
        # and the CLI, the consoles and more changes all at once
        for n in range(3):
            services.assign_commander(ctx, "INC-2", f"person{n}")
            assert shop.cli("incident", "assign", "INC-1", "--commander", f"p{n}").code == 0
        services.set_incident_status(ctx, "INC-2", "mitigated")
        wait_delivered(db)
        assert all(c.poll() is None for c in consoles), "a console ended"
    finally:
        for c in consoles:
            c.send_signal(signal.SIGTERM)
            c.wait(timeout=30)
    got = [(int(r["seq"]), r["event"]) for r in recorded(out)]
    assert len(got) == len(set(got)), "an event ran its hook twice"
    assert [e for _, e in sorted(got)] == ["incident.opened", "incident.opened"] + \
        ["incident.reassigned"] * 6 + ["incident.mitigated"]
    assert {d["status"] for d in deliveries(db)} == {"succeeded"}


async def test_a_failing_hook_of_my_event_warns_me_and_shows_in_the_command_log(tmp_path,
                                                                                monkeypatch):
    script, out = recorder(tmp_path)
    shop = make_service_repo(tmp_path / "shop", config=TUI_CONFIG + "\n[hooks]\n"
                             '"incident.opened" = ["sh", "-c", "echo channel gone >&2; '
                             'exit 4"]\n' f'"*" = {record_argv(script, out, "all")}\n')
    assert shop.cli("incident", "open", "--title", "Before", "--sev", "2").code == 0
    wait_delivered(db_of(shop.path))
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    app = HotfixApp(ctx, watch_interval=0.1)
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(pilot)
        # bob's event: its hooks are not alice's news; then alice's own
        assert shop.cli("incident", "open", "--title", "Bob's", "--sev", "3",
                        actor="bob").code == 0
        assert shop.cli("incident", "open", "--title", "Alice's", "--sev", "2").code == 0
        assert await wait_for(pilot, lambda: any(
            kind == "hook" and d.event == "incident.opened" and d.hook == "incident.opened"
            for kind, d in app.command_log), timeout=30)
        warnings = [str(n.message) for n in app._notifications if "hook" in str(n.message)]
        assert warnings == ["hook incident.opened for incident.opened #3: exit 4: channel gone"]
        hooks = [d for kind, d in app.command_log if kind == "hook"]
        assert {d.seq for d in hooks} == {3}  # the console started after #1; #2 is bob's
        await pilot.press("at")
        await settle(pilot)
        rows = [app.screen.query_one("#commands", DataTable).get_row_at(i)
                for i in range(app.screen.query_one("#commands", DataTable).row_count)]
        shown = [" ".join(str(c) for c in row) for row in rows]
        assert any("hook" in r and "incident.opened #3 sh -c" in r and "channel gone" in r
                   for r in shown), shown
