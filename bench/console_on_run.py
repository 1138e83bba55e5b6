"""The real console, in a real terminal, opened on the deploy pane of one run (P3 live).

    python bench/console_on_run.py REPO DB D-7

The same app `hotfix tui` runs (HotfixApp over the same services), started on the pane
a user reaches by opening the run, so that the measure does not depend on the keys
that lead there.
"""

from __future__ import annotations

import sys

from hotfix_tui import services
from hotfix_tui.tui.app import HotfixApp
from hotfix_tui.tui.screens.deploy import DeployScreen


def main(repo: str, db: str, key: str) -> None:
    ctx = services.open_context(repo=repo, db=db)
    HotfixApp(ctx, start_screen=DeployScreen(key)).run()


if __name__ == "__main__":
    main(*sys.argv[1:4])
