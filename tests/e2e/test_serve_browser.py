"""`hotfix serve` in a real browser: headless Chromium at a laptop's window size, driven by
Selenium with the keyboard and the mouse, on the demo with a hotfix and a run. What the
page shows is read from xterm.js's buffer (the DevTools protocol) and, for the screenshot,
by OCR of its pixels."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serve_helpers import (
    BROWSER_MISSING,
    HOTFIX,
    LAPTOP,
    Browser,
    Served,
    cli,
    demo_with_a_run,
    ocr,
    wait_for,
    world,
)

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(BROWSER_MISSING is not None, reason=BROWSER_MISSING or ""),
    pytest.mark.skipif(not HOTFIX.exists(),
                       reason=f"hotfix is not installed next to {sys.executable}"),
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return demo_with_a_run(tmp_path)


@pytest.fixture
def served(repo: Path, tmp_path: Path):
    server = Served(repo, tmp_path)
    yield server
    server.stop()


@pytest.fixture
def browser(tmp_path: Path, tmp_path_factory):
    b = Browser(tmp_path / "browser", tmp_path_factory.mktemp("c"))
    yield b
    b.close()


def test_chromium_shows_the_console_only_with_the_token(served, browser, tmp_path):
    browser.open(f"{served.base}/")
    assert "403 Forbidden" in browser.driver.page_source
    assert browser.screen() == ""  # no console behind the refusal
    browser.open(served.url)
    # (the footer is built with the first data, and may come a frame after the rows)
    text = browser.wait("SEV1  INC-2", "HF-1   deployed", "READ-ONLY",
                        "INC-2 SEV1 open · Checkout fails with HTTP 500", "^p Commands")
    assert browser.driver.current_url == f"{served.base}/"  # the token left the address bar
    assert browser.driver.title == "hotfix · shop-checkout · read-only"
    # a laptop's window: the terminal fills it, well above the console's 80x24
    size = browser.driver.get_window_size()
    assert (size["width"], size["height"]) == LAPTOP
    cols, rows = browser._call("function () { const t = this[0].terminal; "
                               "return [t.cols, t.rows] }")
    assert cols >= 120 and rows >= 24, (cols, rows)
    assert "^p Commands" in text.splitlines()[-1]  # the footer is on the page, not cut off
    # the pixels, not only the buffer: the screenshot shows the console, not the splash
    shot = tmp_path / "served-console.png"
    seen = wait_for(lambda: (s := ocr(browser.screenshot(shot))) and "INC-2" in s
                    and "HF-1" in s and s, "the screenshot shows INC-2 and HF-1", timeout=60)
    assert "READ-ONLY" in seen


def test_a_reviewer_browses_with_the_keyboard_and_the_mouse(served, browser, repo):
    browser.open(served.url)
    browser.wait("INC-2", "HF-1")
    # the history browser
    browser.keys("h")
    browser.wait("1-1 of 1", "Cap gift card redemption", "succeeded")
    browser.click_text("HF-1")  # the mouse opens the highlighted hotfix
    browser.wait("HF-1 deployed", "Overview", "Deploys")
    # a hotfix's tabs, by key
    for key, shown in (("2", "Root cause understood"), ("3", "+++ b/app/checkout.py"),
                       ("4", "reviewed the diff"), ("6", "D-1  deploy  staging")):
        browser.keys(key)
        browser.wait(shown)
    # and by mouse
    browser.click_text("Timeline")
    browser.wait("HF-1 submitted for review", "D-1 deploy succeeded")
    browser.click_text("Overview")
    browser.wait("A gift card larger than the order made it negative", "Low: one expression")
    # a run's log
    browser.click_text("Deploys")
    browser.wait("D-1  deploy  staging")
    browser.click_text("D-1")  # the only run, highlighted already: a click opens it
    browser.wait("D-1 deploy · staging", "==> staging now runs 1.4.2", "exit 0")
    browser.keys("escape", "escape")
    browser.wait("1-1 of 1")
    # the export: a download in the browser, not a file on the server
    browser.keys("e")
    browser.wait("HF-1 record downloading as HF-1-record.md")
    record = wait_for(lambda: (p := browser.downloads / "HF-1-record.md").is_file()
                      and p.read_text(), "the record downloaded")
    expected = cli(repo, "export", "HF-1")

    def undated(text: str) -> str:
        return re.sub(r"_Exported by hotfix-tui at [^_]*_", "", text)

    assert undated(record) == undated(expected)
    assert not list(repo.glob("*-record.md")) and not list(served.out_path.parent.glob(
        "*-record.md"))


# every action that changes something, on every screen a reviewer can reach
REFUSED = {
    "dashboard": [("n", "New hotfix"), ("o", "Open incident"), ("m", "Mitigate"),
                  ("r", "Resolve"), ("R", "Rollback"), ("u", "Unlock")],
    "review": [("a", "Approve"), ("x", "Reject")],
    "hotfix": [("ctrl+s", "Save"), ("s", "Submit"), ("a", "Approve"), ("x", "Reject"),
               ("p", "Pick"), ("d", "Deploy"), ("B", "Break-glass"), ("v", "Verify"),
               ("f", "Finish"), ("R", "Rollback")],
    "deploy": [("c", "Cancel run"), ("v", "Verify"), ("R", "Rollback"), ("u", "Unlock")],
}


def test_no_write_action_is_reachable_in_the_browser(served, browser, repo):
    """No key, button or palette entry of a change is offered; a key pressed anyway is
    refused and says why."""
    before = world(repo)
    shown: set[str] = set()  # refusals whose toast may still be up

    def refused(what: str, *keys: str, click: str | None = None) -> None:
        """Press the keys (or click), and see the console refuse `what`."""
        message = f"{what}: read-only console"
        if message in shown:  # the same words again: the last toast must be gone first
            browser.wait_gone(message, timeout=60)
        if click:
            browser.click_text(click)
        browser.keys(*keys)
        browser.wait(message)
        shown.add(message)

    browser.open(served.url)
    text = browser.wait("SEV1  INC-2", "HF-1   deployed")
    assert "Rollback" not in text  # neither the strip's buttons nor the footer's R
    for key, what in REFUSED["dashboard"]:
        refused(what, key)
    browser.keys("ctrl+p")  # the command palette lists no change at all
    browser.wait("Search for commands")
    browser.keys(*"Mitigate")
    browser.wait("No matches found")
    browser.keys("escape")
    browser.wait_gone("Search for commands")
    browser.keys("w")
    browser.wait("nothing waits for your approval")
    for key, what in REFUSED["review"]:
        refused(what, key)
    browser.keys("escape")
    browser.wait("SEV1  INC-2")
    # the first click highlights the row, the second opens it (by its title: the
    # environment strip names HF-1 too, as what staging runs)
    browser.click_text("Cap gift card redemption")
    browser.wait("HF-1 1.4.2 · deployed · staging verify pending · base v1.4.1")
    browser.click_text("Cap gift card redemption")
    browser.wait("HF-1 deployed", "Overview")
    for key, what in REFUSED["hotfix"]:
        refused(what, key)
    browser.keys("1")
    browser.wait("A gift card larger")
    # the field is shown but cannot be edited
    refused("Save", "X", "Y", "ctrl+s", click="A gift card larger")
    browser.keys("2")
    browser.wait("Root cause understood")
    refused("Tick", "space")
    browser.keys("6")
    browser.wait("D-1  deploy  staging")
    browser.click_text("D-1")
    browser.wait("D-1 deploy · staging", "exit 0")
    # no Rollback button in the pane, nor R in its footer (the toast of the refusal of R
    # on the hotfix screen may still be up: it is the refusal, not an offer)
    offered = [line for line in browser.screen().splitlines()
               if "Rollback" in line and "Rollback: read-only console" not in line]
    assert not offered, offered
    for key, what in REFUSED["deploy"]:
        refused(what, key)
    assert world(repo) == before
    assert "XY" not in cli(repo, "show", "HF-1")


def test_the_script_makes_the_browser_screenshot_the_readme_shows(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "screenshots" / "browser.py"), "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    readme = (ROOT / "README.md").read_text()
    shown = set(re.findall(r"screenshots/(served-[\w.-]+\.png)", readme))
    assert shown, "the README shows no browser screenshot"
    for name in shown:
        for png in (tmp_path / name, ROOT / "screenshots" / name):  # made, and committed
            head = png.read_bytes()[:24]
            assert head[:8] == b"\x89PNG\r\n\x1a\n", png
            width = int.from_bytes(head[16:20], "big")
            assert width == LAPTOP[0], (png, width)  # the page at a laptop's window width
