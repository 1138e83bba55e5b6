"""Regenerate every screenshot in this folder from the real app on the demo sandbox.

    python screenshots/make.py [--out DIR]

Each screen is driven the way a user would get there, then saved as SVG with
Textual's save_screenshot. The README shows these files.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SIZE = (100, 30)
SHOTS = [
    "dashboard.svg", "hotfix-overview.svg", "hotfix-scope.svg", "hotfix-diff.svg",
    "hotfix-approvals.svg", "hotfix-timeline.svg", "review-confirm.svg", "deploy-live.svg",
    "rollback-modal.svg", "history.svg", "help.svg",
]


async def settle(pilot, rounds: int = 3) -> None:
    for _ in range(rounds):
        await pilot.pause()
        for w in [w for w in list(pilot.app.workers) if w.group != "watch" and not w.is_finished]:
            with contextlib.suppress(Exception):
                await w.wait()
        await pilot.pause()


async def until(pilot, predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await settle(pilot, 1)
        if predicate():
            return
        await pilot.pause(0.1)
    raise TimeoutError("the screen never reached the expected state")


def ctx_for(repo: Path, actor: str):
    from hotfix_tui import services

    os.environ["HOTFIX_ACTOR"] = actor
    return services.open_context(repo=repo)


def prepare(root: Path) -> Path:
    """The demo, with a hotfix started, picked, documented, checked and submitted."""
    from hotfix_tui import services
    from hotfix_tui.demo import create_demo

    repo = create_demo(root / "demo")
    alice = ctx_for(repo, "alice")
    services.start_hotfix(alice, "INC-2", "Cap gift card redemption at the order total")
    services.pick(alice, "HF-1", ["main~3"])
    services.edit(alice, "HF-1",
                  why="A gift card larger than the order makes total_due negative; the "
                      "payment provider answers negative amounts with HTTP 500.",
                  risk="Low: one expression in checkout.total_due; no schema or "
                       "dependency change.",
                  test_plan="Unit test for a gift card larger than the order; the health "
                            "check exercises it against the live release.",
                  rollback_plan="hotfix rollback --env production (back to 1.4.1).")
    for n in (1, 2, 3):
        services.check(alice, "HF-1", n)
    services.submit(alice, "HF-1")
    return repo


async def shoot(repo: Path, out: Path) -> None:
    from hotfix_tui import services
    from hotfix_tui.tui.app import HotfixApp
    from hotfix_tui.tui.screens.deploy import DeployScreen
    from hotfix_tui.tui.screens.history import HistoryScreen
    from hotfix_tui.tui.screens.hotfix import HotfixScreen
    from hotfix_tui.tui.screens.review import ReviewScreen

    def save(app, name: str) -> None:
        app.save_screenshot(filename=name, path=str(out))

    app = HotfixApp(ctx_for(repo, "alice"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        save(app, "dashboard.svg")
        await pilot.press("question_mark")
        await settle(pilot)
        save(app, "help.svg")

    app = HotfixApp(ctx_for(repo, "bob"), start_screen=ReviewScreen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        save(app, "review-confirm.svg")
        await pilot.press("tab", "enter")
        await until(pilot, lambda: services.get_hotfix(app.ctx, "HF-1").state == "approved")

    app = HotfixApp(ctx_for(repo, "alice"), start_screen=HotfixScreen("HF-1"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for tab in ("overview", "scope", "diff", "approvals", "timeline"):
            app.screen.query_one("#tabs").active = tab
            await settle(pilot)
            save(app, f"hotfix-{tab}.svg")

    alice = ctx_for(repo, "alice")
    run = services.deploy(alice, "HF-1", "staging")
    app = HotfixApp(alice, start_screen=DeployScreen(run.key))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.run is not None and app.screen.run.lines >= 9)
        save(app, "deploy-live.svg")
        await until(pilot, lambda: str(app.screen.run.status) != "running")
    from hotfix_tui.deploy.runner import wait_finished

    services.verify(alice, "HF-1", "staging")
    wait_finished(str(alice.db_path), int(run.key.split("-")[1]) + 1, timeout=60)
    prod = services.deploy(alice, "HF-1", "production")
    wait_finished(str(alice.db_path), int(prod.key.split("-")[1]), timeout=60)

    app = HotfixApp(ctx_for(repo, "alice"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await until(pilot, lambda: type(app.screen).__name__ == "TypedConfirmModal")
        save(app, "rollback-modal.svg")

    app = HotfixApp(ctx_for(repo, "carol"), readonly=True,
                    start_screen=HistoryScreen("gift card"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        save(app, "history.svg")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    with tempfile.TemporaryDirectory(prefix="hotfix-shots-") as tmp:
        repo = prepare(Path(tmp))
        asyncio.run(shoot(repo, args.out))
    missing = [name for name in SHOTS if not (args.out / name).is_file()]
    if missing:
        print("missing: " + ", ".join(missing), file=sys.stderr)
        return 1
    print(f"{len(SHOTS)} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
