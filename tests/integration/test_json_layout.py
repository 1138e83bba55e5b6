"""The layout of --json: indented on a terminal for a person, one line into a pipe or a
file for a program (as `gh` does; json's C encoder writes that several times faster,
which a page of 100 hotfixes feels: bench P10). The content is the same either way. An
exported record has the same layout on standard output as in the file `-o` writes."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import GIT_ENV, init_repo, run


def _repo(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "repo")
    assert run(["incident", "open", "--title", "Checkout fails", "--sev", "1"],
               cwd=repo).code == 0
    assert run(["incident", "open", "--title", "Slow search in Zürich", "--sev", "3"],
               cwd=repo).code == 0
    return repo


def _env() -> dict[str, str]:
    return {**os.environ, **GIT_ENV, "HOTFIX_ACTOR": "", "COLUMNS": "100"}


def _piped(repo: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "hotfix_tui", *args], cwd=repo, env=_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _on_a_terminal(repo: Path, *args: str) -> str:
    """The command's standard output on a real pseudo-terminal."""
    main, sub = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "hotfix_tui", *args], cwd=repo,
                            env=_env(), stdin=subprocess.DEVNULL, stdout=sub,
                            stderr=subprocess.PIPE)
    os.close(sub)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            data = os.read(main, 65536)
        except OSError:  # the other end closed: the command ended
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_json_is_one_line_into_a_pipe_and_indented_on_a_terminal(tmp_path):
    repo = _repo(tmp_path)
    piped = _piped(repo, "incident", "list", "--json")
    shown = _on_a_terminal(repo, "incident", "list", "--json")
    assert piped.count("\n") == 1 and piped.endswith("}\n"), piped
    assert shown.startswith('{\n  "schema_version": 1,\n  "items": [\n'), shown[:80]
    assert json.loads(piped) == json.loads(shown)
    assert sorted(i["key"] for i in json.loads(piped)["items"]) == ["INC-1", "INC-2"]
    assert "Zürich" in piped and "Zürich" in shown  # readable text stays readable


def test_an_exported_record_is_the_same_text_piped_as_written_to_a_file(tmp_path):
    from tests.integration.deploy_helpers import approved_hotfix, deploy_repo

    s = deploy_repo(tmp_path)
    approved_hotfix(s, "HF-1", "Fix totals")
    written = s.path / "HF-1.json"
    assert s.cli("export", "HF-1", "--json", "-o", str(written)).code == 0
    piped = _piped(s.path, "export", "HF-1", "--json")
    text = written.read_text(encoding="utf-8")
    assert piped.startswith('{\n  "schema_version": ') and text.startswith(piped[:40])
    assert piped.count("\n") == text.count("\n") > 50  # the same layout, line for line
    a, b = json.loads(piped), json.loads(text)
    assert a.keys() == b.keys() and a["hotfix"] == b["hotfix"]
