"""Bad states are shown on screen, never as tracebacks."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from hotfix_tui.cli.tui_cmd import build_app
from hotfix_tui.tui.app import HotfixApp
from tests.tui.conftest import make_ctx, screen_text, settle, wait_for


def _build(repo=None, db=None, cwd=None, monkeypatch=None):
    if cwd is not None:
        monkeypatch.chdir(cwd)
    ctx = click.Context(click.Command("hotfix"), obj={"repo": repo, "db": db})
    return build_app(ctx, readonly=False)


async def test_no_repository(tmp_path, monkeypatch):
    app = _build(cwd=tmp_path, monkeypatch=monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "not a git repository" in text and "--repo" in text
        await pilot.press("q")


async def test_a_file_that_is_not_a_database(tmp_path, monkeypatch, shop):
    bogus = tmp_path / "notes.db"
    bogus.write_bytes(b"not sqlite at all\n" * 100)
    app = _build(repo=str(shop.path), db=str(bogus), monkeypatch=monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "not a hotfix database" in screen_text(app)


async def test_a_database_that_breaks_while_the_console_runs(shop, monkeypatch):
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    app = HotfixApp(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        db = shop.path / ".git" / "hotfix" / "hotfix.db"
        for suffix in ("-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        db.write_bytes(b"garbage" * 1000)
        app.screen.reload()
        assert await wait_for(pilot, lambda: "not a hotfix database" in screen_text(app))


async def test_a_hotfix_whose_worktree_was_deleted(shop, monkeypatch):
    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix").code == 0
    shutil.rmtree(shop.cli("show", "HF-1", "--json").json()["worktree"])
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    from hotfix_tui.tui.screens.hotfix import HotfixScreen

    app = HotfixApp(ctx, start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "worktree missing" in screen_text(app)
        assert "hotfix worktree HF-1" in app.screen.why_not("pick")
        await pilot.press("p")
        await settle(pilot)
        assert type(app.screen).__name__ == "HotfixScreen"


async def test_resized_to_60x20(shop, monkeypatch):
    assert shop.cli("start", "--incident", "INC-1", "--title", "Fix").code == 0
    ctx = make_ctx(shop.path, "alice", monkeypatch)
    app = HotfixApp(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.resize_terminal(60, 20)
        await settle(pilot)
        text = screen_text(app)
        assert "INC-1" in text and "HF-1" in text
        await pilot.press("j", "enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "HotfixScreen"
        assert "HF-1" in screen_text(app)


async def test_the_deploy_pane_says_a_read_failed_and_reads_again_once_it_can(
        shop, monkeypatch, tmp_path):
    """A read of the run that fails is said in the pane (not a toast per poll), and the
    next read still happens: the pane shows the run again once the database is back."""
    import sqlite3
    import sys

    from textual.widgets import Static

    from hotfix_tui.clock import iso, utcnow
    from hotfix_tui.deploy.runner import spawn, wait_finished
    from hotfix_tui.store import open_store
    from hotfix_tui.store.runs import insert_run
    from hotfix_tui.tui.screens.deploy import DeployScreen

    ctx = make_ctx(shop.path, "alice", monkeypatch)
    store = open_store(ctx.db_path)
    with store.write():
        row = insert_run(store, env="staging", kind="deploy",
                         argv=[sys.executable, "-c", "print('shipped')"],
                         workdir=str(tmp_path), started_by="alice",
                         started_by_verified=True, started_at=iso(utcnow()),
                         max_log_bytes=0, timeout_s=60)
    store.close()
    spawn(ctx.db_path, int(row["id"]))
    assert wait_finished(ctx.db_path, int(row["id"]), timeout=60)
    db = ctx.db_path
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    good = Path(db).read_bytes()

    app = HotfixApp(ctx, start_screen=DeployScreen(row["key"]))
    async with app.run_test(size=(100, 30)) as pilot:
        header = app.screen.query_one("#log-header", Static)
        shown = f"{row['key']} deploy · staging"
        assert await wait_for(pilot, lambda: shown in str(header.render()))
        for suffix in ("-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        Path(db).write_bytes(b"garbage" * 1000)
        app.screen.reload()
        assert await wait_for(pilot, lambda: "error: " in str(header.render()))
        assert not app._notifications  # said in the pane, no toast
        Path(db).write_bytes(good)
        app.screen.reload()
        assert await wait_for(pilot, lambda: shown in str(header.render()))
