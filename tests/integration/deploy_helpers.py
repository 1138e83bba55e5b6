"""A service repository with a production (local-symlink) and a scripted environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers import ServiceRepo, git, make_service_repo

DEPLOY_SH = """#!/bin/sh
echo "deploying $1 ($2) to $HOTFIX_ENV"
echo "warning: slow pod" >&2
echo "done"
"""
VERIFY_SH = """#!/bin/sh
test -d "$1" && echo "health check ok for $1"
"""


def deploy_config(srv: Path, extra: str = "") -> str:
    return f"""\
[identity]
allow_override = true
sandbox = true  # one OS account plays alice and bob

[scope]
checklist = ["Root cause understood", "Rollback plan tested or obvious"]

[environments.production]
driver = "local-symlink"
path = "{srv}/production"
verify = ["./ops/verify.sh", "{srv}/production/current"]
timeout_s = 60
cancel_grace_s = 2

[environments.scripted]
deploy = ["./ops/deploy.sh", "{{version}}", "{{short_sha}}"]
timeout_s = 60
cancel_grace_s = 2
{extra}"""


def deploy_repo(tmp_path: Path, extra_config: str = "", files: dict | None = None
                ) -> ServiceRepo:
    srv = tmp_path / "srv"
    (srv / "production").mkdir(parents=True)
    svc = make_service_repo(tmp_path / "shop", config=deploy_config(srv, extra_config),
                            extra={"ops/deploy.sh": DEPLOY_SH, "ops/verify.sh": VERIFY_SH,
                                   **(files or {})})
    assert svc.cli("incident", "open", "--title", "Checkout totals wrong", "--sev", "1").code == 0
    assert svc.cli("adopt", "--env", "production", "--ref", "v1.4.1", "--reason",
                   "what production runs").code == 0
    svc.srv = srv
    return svc


def runner_ids(svc: ServiceRepo, deploy_id: int = 1, timeout: float = 10.0) -> tuple[int, int]:
    """(pid, pgid) of a run's runner and command, once the run exists and its runner has
    recorded them."""
    import sqlite3
    import time

    db = svc.path / ".git" / "hotfix" / "hotfix.db"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = sqlite3.connect(db)
        row = conn.execute("SELECT pid, pgid FROM deploys WHERE id = ?",
                           (deploy_id,)).fetchone()  # None until the run is created
        conn.close()
        if row and row[0] and row[1]:
            return row[0], row[1]
        time.sleep(0.05)
    raise AssertionError("the runner never recorded its pid")


def approved_hotfix(svc: ServiceRepo, key: str = "HF-1", title: str = "Fix totals") -> None:
    submitted_hotfix(svc, key, title)
    assert svc.cli("approve", key, actor="bob").code == 0


def submitted_hotfix(svc: ServiceRepo, key: str = "HF-1", title: str = "Fix totals") -> None:
    """Started by alice from INC-1, the fix picked, documented, ticked and submitted."""
    res = svc.cli("start", "--incident", "INC-1", "--title", title)
    assert res.code == 0, res.err
    assert svc.cli("pick", key, svc.fix).code == 0
    assert svc.cli("edit", key, "--why", "w", "--risk", "r", "--test-plan", "t",
                   "--rollback-plan", "b").code == 0
    for n in ("1", "2"):
        assert svc.cli("check", key, n).code == 0
    assert svc.cli("submit", key).code == 0


def orphan_the_run(svc: ServiceRepo, pid: int, deploy_id: int = 1) -> None:
    """Kill the run's runner (not its command) and age its heartbeat, as if it died a while
    ago: readers then take the run for interrupted at once."""
    import os
    import signal
    import sqlite3
    from datetime import timedelta

    from hotfix_tui.clock import iso, utcnow

    os.kill(pid, signal.SIGKILL)
    conn = sqlite3.connect(svc.path / ".git" / "hotfix" / "hotfix.db")
    conn.execute("UPDATE deploys SET heartbeat_at = ? WHERE id = ?",
                 (iso(utcnow() - timedelta(seconds=120)), deploy_id))
    conn.commit()
    conn.close()


def kill_every_command(svc: ServiceRepo) -> None:
    """Leave nothing of any run behind, whatever a test's outcome: each run's command
    (its group, what carries its marker, its cgroup) and the runner of a run still
    running. A run started just before (`--detach`) is waited for until its runner has
    recorded its command's group."""
    import contextlib
    import os
    import signal
    import sqlite3
    import time

    from hotfix_tui.deploy.procs import RunProcesses

    deadline = time.monotonic() + 10
    while True:
        conn = sqlite3.connect(svc.path / ".git" / "hotfix" / "hotfix.db")
        conn.row_factory = sqlite3.Row
        try:
            rows = conn.execute("SELECT * FROM deploys").fetchall()
        finally:
            conn.close()
        starting = [r for r in rows if r["status"] == "running" and not r["pgid"]]
        if not starting or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for row in rows:
        RunProcesses.of(row).signal(signal.SIGKILL)
        if row["status"] == "running" and row["pid"]:
            with contextlib.suppress(OSError):  # (gone, or not ours: left alone)
                cmdline = Path(f"/proc/{row['pid']}/cmdline").read_bytes()
                if b"hotfix_tui.deploy.runner" in cmdline:
                    os.kill(row["pid"], signal.SIGKILL)


# 8-bit CSI and OSC, a bidi override and isolate, a zero-width space, a BOM, a soft
# hyphen, a tag character, the line separator: none may reach a terminal.
EVIL = "\x9b2J\x9d0;owned\x9c r\u200boot \u202egnp.exe\u2066x\u2069 \ufeff\u00ad\U000e0041\u2028"
EVIL_SH = """#!/bin/sh
printf 'csi \\302\\2332J osc \\302\\2350;t\\302\\234 rtl \\342\\200\\256x zw r\\342\\200\\213oot\\n'
printf 'isolate \\342\\201\\246y\\342\\201\\251 bom \\357\\273\\277 done\\n' >&2
"""


def evil_service(tmp_path: Path) -> ServiceRepo:
    """A service whose main carries a commit with unsafe characters in its subject, its
    author's name and a file name; HF-1 picks it and D-1 deploys it (break-glass) with a
    script that prints them on both streams."""
    svc = deploy_repo(tmp_path, files={"ops/evil.sh": EVIL_SH},
                      extra_config='[environments.evil]\ndeploy = ["./ops/evil.sh"]\n'
                                   "timeout_s = 60\n")
    name = f"app/r\u200boot\u202etxt.py{EVIL[:4]}"
    (svc.path / name).parent.mkdir(parents=True, exist_ok=True)
    (svc.path / name).write_text(f"x = 1  # {EVIL}\n")
    git(svc.path, "add", "--", name)
    env = {**os.environ, "GIT_AUTHOR_NAME": f"Mal{EVIL}lory"}
    subprocess.run(["git", "commit", "-q", "-m", f"Fix {EVIL} totals"], cwd=svc.path,
                   env=env, check=True)
    svc.evil = git(svc.path, "rev-parse", "HEAD")
    assert svc.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    res = svc.cli("pick", "HF-1", svc.evil)
    assert res.code == 0, res.err
    res = svc.cli("deploy", "HF-1", "--env", "evil", "--break-glass", "the fix is urgent")
    assert res.code == 0, res.err
    return svc
