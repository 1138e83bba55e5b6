"""Helpers for `hotfix serve`: the demo with a hotfix and a run, the server as a real
process, and headless Chromium (Debian's chromium and chromium-driver, driven by Selenium)
reading back the terminal that xterm.js draws on a canvas.

The text is not in the page's DOM. It is read from the terminal's own buffer through the
DevTools protocol: the page's start-up function closes over textual-serve's session class;
Runtime.queryObjects finds its live instance, whose `terminal.buffer` holds every cell."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

HOTFIX = Path(sys.executable).parent / "hotfix"
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
TESSERACT = shutil.which("tesseract")
BROWSER_MISSING = (None if CHROMIUM and CHROMEDRIVER and TESSERACT else
                   "chromium, chromium-driver and tesseract-ocr are not installed and could "
                   "not be installed (see .ci/run)")
LAPTOP = (1366, 768)


def cli(repo: Path, *args: str, actor: str = "alice") -> str:
    env = {**os.environ, "HOTFIX_ACTOR": actor}
    proc = subprocess.run([str(HOTFIX), *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc.stdout


def demo_with_a_run(root: Path) -> Path:
    """The demo sandbox, with HF-1 documented, approved by bob and deployed to staging
    (run D-1 and its log)."""
    cli(root, "demo", "--dir", str(root / "demo"), "--no-tui")
    repo = root / "demo" / "shop-checkout"
    cli(repo, "start", "--incident", "INC-2", "--title", "Cap gift card redemption")
    cli(repo, "pick", "HF-1", "main~3")
    cli(repo, "edit", "HF-1", "--why", "A gift card larger than the order made it negative",
        "--risk", "Low: one expression", "--test-plan", "Unit test and the health check",
        "--rollback-plan", "hotfix rollback --env production")
    for n in ("1", "2", "3"):
        cli(repo, "check", "HF-1", n)
    cli(repo, "submit", "HF-1")
    cli(repo, "approve", "HF-1", "--comment", "reviewed the diff", actor="bob")
    cli(repo, "deploy", "HF-1", "--env", "staging")
    return repo


def world(repo: Path) -> dict:
    """Everything a write would change: the audit chain, the runs, refs, worktrees and
    what each environment runs."""
    conn = sqlite3.connect(f"file:{repo / '.git' / 'hotfix' / 'hotfix.db'}?mode=ro", uri=True)
    try:
        audit = conn.execute("SELECT count(*), max(hash) FROM audit_events").fetchone()
        runs = conn.execute("SELECT count(*) FROM deploys").fetchone()
    finally:
        conn.close()

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                              check=True).stdout

    srv = repo.parent / "srv"
    return {"audit": audit, "runs": runs, "refs": git("for-each-ref"),
            "worktrees": git("worktree", "list", "--porcelain"),
            "current": {env: os.readlink(srv / env / "current")
                        for env in ("production", "staging")}}


class Served:
    """`hotfix serve` as a real process (the installed script), on a free port."""

    def __init__(self, repo: Path, tmp: Path, *args: str, port: str = "0") -> None:
        self.repo = repo
        self.out_path, self.err_path = tmp / "serve.out", tmp / "serve.err"
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen([str(HOTFIX), "serve", "--port", port, *args],
                                         cwd=repo, stdout=out, stderr=err,
                                         start_new_session=True)
        deadline = time.monotonic() + 60
        while "Ctrl+C stops" not in self.out_path.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"hotfix serve did not start:\n{self.output()}")
            time.sleep(0.05)
        found = re.search(r"Open .*?(http://[^/\s]+)/\?token=(<[^>]*>|\S+)",
                          self.out_path.read_text())
        assert found, self.output()
        self.base, self.token = found.group(1), found.group(2)
        self.port = int(self.base.rsplit(":", 1)[1])
        self.url = f"{self.base}/?token={self.token}"

    def output(self) -> str:
        return self.out_path.read_text() + self.err_path.read_text()

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, str]:
        """One request, redirects not followed."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, \
                resp.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def cookie(self) -> str:
        status, headers, _ = self.get(f"/?token={self.token}")
        assert status == 303, status
        return headers["set-cookie"].split(";", 1)[0]

    def descendants(self) -> list[int]:
        """The server's processes: itself and every process below it."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    stat = (entry / "stat").read_text()
                    parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += [child for child, parent in parents.items() if parent == pid]
        return found

    def consoles(self) -> list[int]:
        return [pid for pid in self.descendants()[1:]
                if b"hotfix_tui" in _read(Path(f"/proc/{pid}/cmdline"))]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def argv_of(pid: int) -> list[str]:
    return [a.decode() for a in _read(Path(f"/proc/{pid}/cmdline")).split(b"\0") if a]


def environ_of(pid: int) -> bytes:
    return _read(Path(f"/proc/{pid}/environ"))


def wait_for(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


SCREEN_JS = """function () {
  const t = this[0].terminal, b = t.buffer.active, rows = [];
  for (let i = 0; i < t.rows; i++) {
    const line = b.getLine(b.viewportY + i);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}"""
GEOMETRY_JS = """function () {
  const t = this[0].terminal;
  const r = t.element.querySelector(".xterm-screen").getBoundingClientRect();
  return {left: r.left, top: r.top, width: r.width, height: r.height,
          cols: t.cols, rows: t.rows};
}"""


class Browser:
    """Headless Chromium at a laptop's window size, with its profile, downloads and
    temporary files under `tmp`."""

    def __init__(self, tmp: Path, scratch: Path, size: tuple[int, int] = LAPTOP) -> None:
        """`scratch` is Chromium's TMPDIR; its socket path there must stay under 108
        bytes, so it is a short path (pytest's base temporary directory)."""
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.downloads = tmp / "downloads"
        for d in (self.downloads, scratch):
            d.mkdir(parents=True, exist_ok=True)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    f"--window-size={size[0]},{size[1]}", f"--user-data-dir={tmp / 'profile'}",
                    "--no-first-run", "--disable-background-networking"):
            options.add_argument(arg)
        options.add_experimental_option("prefs", {
            "download.default_directory": str(self.downloads),
            "download.prompt_for_download": False})
        # the path to the driver skips Selenium Manager: nothing is downloaded
        service = Service(CHROMEDRIVER, env={**os.environ, "TMPDIR": str(scratch)},
                          log_output=str(tmp / "chromedriver.log"))
        self.driver = webdriver.Chrome(options=options, service=service)
        self.cdp("Browser.setDownloadBehavior", behavior="allow",
                 downloadPath=str(self.downloads))

    def close(self) -> None:
        self.driver.quit()

    def cdp(self, cmd: str, **params):
        return self.driver.execute_cdp_cmd(cmd, params)

    def open(self, url: str) -> None:
        self.driver.get(url)

    # -- the terminal, through the DevTools protocol ------------------------------------
    def _sessions(self) -> str | None:
        """An array of textual-serve's live session objects (each holds its terminal)."""
        start = self.cdp("Runtime.evaluate", expression="window.onload")["result"]
        if "objectId" not in start:
            return None
        props = self.cdp("Runtime.getProperties", objectId=start["objectId"],
                         ownProperties=False)
        scopes = next((p for p in props.get("internalProperties", [])
                       if p["name"] == "[[Scopes]]"), None)
        if scopes is None:
            return None
        for scope in self.cdp("Runtime.getProperties", objectId=scopes["value"]["objectId"],
                              ownProperties=True)["result"]:
            if "objectId" not in scope["value"] or scope["value"].get("className") == "Window":
                continue
            for var in self.cdp("Runtime.getProperties", objectId=scope["value"]["objectId"],
                                ownProperties=True)["result"]:
                text = var["value"].get("description") or ""
                if var["value"].get("type") == "function" and text.startswith("class") \
                        and "new WebSocket" in text and "terminal" in text:
                    proto = self.cdp("Runtime.callFunctionOn",
                                     objectId=var["value"]["objectId"],
                                     functionDeclaration="function () { return this.prototype }")
                    found = self.cdp("Runtime.queryObjects",
                                     prototypeObjectId=proto["result"]["objectId"])
                    return found["objects"]["objectId"]
        return None

    def _call(self, js: str):
        sessions = self._sessions()
        if sessions is None:
            return None
        count = self.cdp("Runtime.callFunctionOn", objectId=sessions, returnByValue=True,
                         functionDeclaration="function () { return this.length }")
        if not count["result"].get("value"):
            return None
        res = self.cdp("Runtime.callFunctionOn", objectId=sessions, returnByValue=True,
                       functionDeclaration=js)
        return res["result"].get("value")

    def screen(self) -> str:
        return self._call(SCREEN_JS) or ""

    def wait(self, *needles: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if all(n in text for n in needles):
                return text
            time.sleep(0.15)
        raise AssertionError(f"the page never showed {needles!r}; it shows:\n{text}")

    def wait_gone(self, needle: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        text = needle
        while time.monotonic() < deadline:
            text = self.screen()
            if needle not in text:
                return text
            time.sleep(0.15)
        raise AssertionError(f"the page kept showing {needle!r}:\n{text}")

    # -- a person at the keyboard and the mouse ---------------------------------------------
    def keys(self, *keys: str) -> None:
        """Typed into the terminal (xterm.js's input element has the focus)."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        named = {"enter": Keys.ENTER, "escape": Keys.ESCAPE, "tab": Keys.TAB,
                 "space": " ", "down": Keys.DOWN, "up": Keys.UP}
        # a person clicks into the page first; the input xterm.js reads keys from
        self.driver.execute_script(
            "const t = document.querySelector('.xterm-helper-textarea');"
            "if (document.activeElement !== t) t.focus();")
        for key in keys:
            chain = ActionChains(self.driver)
            if key.startswith("ctrl+"):
                chain.key_down(Keys.CONTROL).send_keys(key[5:]).key_up(Keys.CONTROL)
            else:
                chain.send_keys(named.get(key, key))
            chain.perform()
            time.sleep(0.3)  # a person's pace; results are waited for by reading the screen

    def click_text(self, text: str, nth: int = 0) -> None:
        """Click the middle of the first cell of `text` where the terminal shows it."""
        from selenium.webdriver.common.actions.action_builder import ActionBuilder

        lines = self.screen().split("\n")
        spots = [(row, m.start()) for row, line in enumerate(lines)
                 for m in re.finditer(re.escape(text), line)]
        assert len(spots) > nth, f"{text!r} is not on the screen:\n" + "\n".join(lines)
        row, col = spots[nth]
        g = self._call(GEOMETRY_JS)
        x = g["left"] + (col + 0.5) * g["width"] / g["cols"]
        y = g["top"] + (row + 0.5) * g["height"] / g["rows"]
        action = ActionBuilder(self.driver)
        action.pointer_action.move_to_location(int(x), int(y))
        action.pointer_action.click()
        action.perform()
        time.sleep(0.3)

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        assert self.driver.save_screenshot(str(path)), path
        return path


def ocr(png: Path) -> str:
    """What tesseract reads in a screenshot."""
    proc = subprocess.run([TESSERACT, str(png), "-", "--psm", "6"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout
