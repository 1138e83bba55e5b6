"""The examples of docs/HOOKS.md, run as written: syslog through `logger`, a Slack incoming
webhook through `curl`, a PagerDuty Events API v2 payload built with `jq`, and a chatops bot
reading `hotfix watch --json`. The services are stood in for by a local HTTP server (and a
local syslog socket); what reaches them is checked against what those services document."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import GIT_ENV, git, make_service_repo, wait_for
from tests.integration.deploy_helpers import approved_hotfix, deploy_repo, submitted_hotfix
from tests.integration.hook_helpers import db_of, deliveries, wait_delivered

DOCS = Path(__file__).resolve().parents[2] / "docs" / "HOOKS.md"
pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("jq", "curl", "logger")),
                                reason="the examples need jq, curl and logger (.ci/run "
                                       "installs them)")


def example(name: str) -> str:
    """The fenced block after `<!-- example: NAME -->` in docs/HOOKS.md."""
    text = DOCS.read_text()
    m = re.search(r"<!-- example: " + re.escape(name) + r" -->\n```\w*\n(.*?)```", text, re.S)
    assert m, f"no example {name!r} in {DOCS}"
    return m.group(1)


def hooks_of(name: str) -> str:
    """An example's [hooks] table, checked to be valid TOML."""
    body = example(name)
    assert "hooks" in tomllib.loads(body)
    return body


def install(repo: Path, rel: str, text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    git(repo, "add", "--", rel)
    git(repo, "commit", "-q", "-m", f"Add {rel}")


class Receiver:
    """A local HTTP endpoint that records every POST (path, headers, body)."""

    def __init__(self, reply: bytes = b"ok", status: int = 200) -> None:
        got = self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                got.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def no_proxy(monkeypatch):
    for k in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
              "ALL_PROXY"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")


def test_logger_example_writes_each_event_to_syslog(tmp_path):
    sock_path = tmp_path / "log.sock"
    log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    log.bind(str(sock_path))
    log.settimeout(30)
    hooks = tomllib.loads(hooks_of("logger"))["hooks"]
    argv = hooks["*"]
    assert argv[0] == "logger"
    # the example as written, told to use our socket rather than the machine's syslog
    argv = ["logger", "-u", str(sock_path), "--socket-errors=on", *argv[1:]]
    svc = make_service_repo(tmp_path / "shop", config="[identity]\nallow_override = true\n"
                            f"[hooks]\n\"*\" = {json.dumps(argv)}\n")
    try:
        assert svc.cli("incident", "open", "--title", "Checkout 500", "--sev", "1").code == 0
        message = log.recv(4096).decode()
    finally:
        log.close()
    assert message.startswith("<13>")  # user.notice
    assert "hotfix" in message
    assert message.endswith("incident.opened INC-1 opened: SEV1 Checkout 500 by alice")
    wait_delivered(db_of(svc.path))
    assert [d["status"] for d in deliveries(db_of(svc.path))] == ["succeeded"]


def test_slack_example_posts_a_valid_incoming_webhook_payload(tmp_path, monkeypatch, no_proxy):
    slack = Receiver(b"ok")
    try:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", slack.url + "/services/T000/B000/XXXX")
        svc = deploy_repo(tmp_path, extra_config=hooks_of("slack config"))
        install(svc.path, "ops/hooks/slack.sh", example("ops/hooks/slack.sh"))
        approved_hotfix(svc)
        submitted_hotfix(svc, "HF-2", "Other")
        assert svc.cli("reject", "HF-2", "--comment", "a <b>bold</b> & risky idea",
                       actor="carol").code == 0
        assert svc.cli("deploy", "HF-1", "--env", "production").code == 0
        wait_delivered(db_of(svc.path))
    finally:
        slack.close()
    assert {d["status"] for d in deliveries(db_of(svc.path))} == {"succeeded"}
    texts = []
    for req in slack.requests:
        assert req["path"] == "/services/T000/B000/XXXX"
        assert req["headers"]["Content-Type"] == "application/json"
        body = json.loads(req["body"])
        assert list(body) == ["text"] and isinstance(body["text"], str)
        texts.append(body["text"])
    assert "[hotfix.submitted] HF-1 needs a review: submitted by alice at " in "\n".join(texts)
    assert "[hotfix.approved] HF-1 approved by bob" in texts
    assert ("[hotfix.rejected] HF-2 rejected by carol: a &lt;b&gt;bold&lt;/b&gt; &amp; risky "
            "idea") in texts
    assert any(t.startswith("[deploy.started] D-1: deploy of 1.4.2 to production") for t in texts)
    assert "[deploy.finished] D-1: deploy of 1.4.2 to production succeeded" in texts


FAIL_SH = "#!/bin/sh\necho 'deploy failed' >&2\nexit 1\n"
PD_SEVERITIES = {"critical", "error", "warning", "info"}


def test_pagerduty_example_sends_valid_events_api_v2_payloads(tmp_path, monkeypatch,
                                                              no_proxy):
    pd = Receiver(b'{"status":"success","message":"Event processed","dedup_key":"x"}', 202)
    key = "R0UT1NGK3Y0123456789ABCDEFGHIJKL"
    try:
        monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", key)
        monkeypatch.setenv("PAGERDUTY_EVENTS_URL", pd.url + "/v2/enqueue")
        svc = deploy_repo(tmp_path, extra_config=(
            '[environments.broken]\ndeploy = ["./ops/fail.sh"]\n' + hooks_of("pagerduty config")),
            files={"ops/fail.sh": FAIL_SH})
        install(svc.path, "ops/hooks/pagerduty.sh", example("ops/hooks/pagerduty.sh"))
        assert svc.cli("start", "--incident", "INC-1", "--title", "Emergency").code == 0
        assert svc.cli("pick", "HF-1", svc.fix).code == 0
        assert svc.cli("deploy", "HF-1", "--env", "production", "--break-glass",
                       "nobody to approve").code == 0     # page: critical; its success: none
        assert svc.cli("approve", "HF-1", actor="bob").code == 0
        assert svc.cli("deploy", "HF-1", "--env", "broken").code == 3       # page: error
        assert svc.cli("incident", "resolve", "INC-1").code == 0            # resolve
        wait_delivered(db_of(svc.path))
    finally:
        pd.close()
    assert {d["status"] for d in deliveries(db_of(svc.path))} == {"succeeded"}
    bodies = []
    for req in pd.requests:
        assert req["path"] == "/v2/enqueue"
        assert req["headers"]["Content-Type"] == "application/json"
        bodies.append(json.loads(req["body"]))
    assert [b["event_action"] for b in bodies] == ["trigger", "trigger", "resolve"]
    for b in bodies:
        assert b["routing_key"] == key and b["dedup_key"] == "hotfix-INC-1"
    glass, failed, resolve = bodies
    for trigger in (failed, glass):
        p = trigger["payload"]
        assert {"summary", "source", "severity"} <= set(p)
        assert isinstance(p["summary"], str) and 0 < len(p["summary"]) <= 1024
        assert p["source"].startswith("hotfix-tui@") and p["severity"] in PD_SEVERITIES
        assert isinstance(p["custom_details"], dict) and trigger["client"] == "hotfix-tui"
    assert failed["payload"]["class"] == "deploy.finished"
    assert failed["payload"]["severity"] == "error"
    assert failed["payload"]["custom_details"]["data"]["outcome"] == "failed"
    assert failed["payload"]["component"] == "broken"
    assert glass["payload"]["class"] == "break_glass.used"
    assert glass["payload"]["severity"] == "critical"
    assert resolve == {"routing_key": key, "event_action": "resolve",
                       "dedup_key": "hotfix-INC-1"}


def test_chatops_bot_example_follows_events_and_resumes_after_a_restart(tmp_path):
    svc = deploy_repo(tmp_path)
    bot = tmp_path / "chatops-bot.py"
    bot.write_text(example("ops/chatops-bot.py"))
    state = tmp_path / "bot.state"
    env = {**os.environ, **GIT_ENV, "HOTFIX_ACTOR": "alice",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def start():
        proc = subprocess.Popen([sys.executable, str(bot), str(state)], cwd=svc.path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
        return proc, lines

    def stop(proc) -> None:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()

    proc, lines = start()
    try:
        approved_hotfix(svc)
        # it spoke, and wrote down the place it reached (after speaking)
        wait_for(lambda: lines and state.exists(), what="the bot to speak")
    finally:
        stop(proc)
    assert lines == ["HF-1 needs a review (from alice): hotfix approve HF-1\n"]
    seen = int(state.read_text())
    # while the bot is down
    assert svc.cli("deploy", "HF-1", "--env", "production").code == 0
    proc, lines = start()
    try:
        wait_for(lambda: len(lines) >= 2, what="the bot to catch up")
    finally:
        stop(proc)
    assert lines == ["production deploy of 1.4.2 started by alice\n",
                     "production deploy of 1.4.2: succeeded\n"]
    assert int(state.read_text()) > seen
