"""The core, store, services and gitops layers never import textual or rich."""

from __future__ import annotations

import subprocess
import sys

LAYERS = ["hotfix_tui.core.models", "hotfix_tui.core.workflow", "hotfix_tui.core.backport",
          "hotfix_tui.store",
          "hotfix_tui.store.audit", "hotfix_tui.store.records", "hotfix_tui.services",
          "hotfix_tui.services.serve", "hotfix_tui.config", "hotfix_tui.identity",
          "hotfix_tui.repo"]
OPTIONAL = ["hotfix_tui.gitops", "hotfix_tui.core.scope", "hotfix_tui.deploy.runner",
            "hotfix_tui.deploy.launch", "hotfix_tui.deploy.cancel", "hotfix_tui.patchids",
            "hotfix_tui.cherrypick",
            "hotfix_tui.deploy.drivers", "hotfix_tui.demo"]


def _loaded_ui_modules(modules: list[str]) -> list[str]:
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return [m for m in proc.stdout.strip().split(",") if m]


def test_layers_do_not_import_textual_or_rich():
    import importlib.util

    def exists(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            return False

    present = [m for m in OPTIONAL if exists(m)]
    assert _loaded_ui_modules(LAYERS + present) == []


def test_the_check_can_fail():
    assert "textual" in _loaded_ui_modules(["textual.app"])


def test_cli_list_does_not_load_the_console():
    code = (
        "import sys\n"
        "from hotfix_tui.cli import main\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'git', 'sqlite_utils'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == ""
