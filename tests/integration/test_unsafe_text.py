"""No character a terminal obeys or a reader cannot see reaches any output.

C1 controls (8-bit CSI and OSC), bidi overrides and isolates, zero-width characters:
refused in what users type; made visible in what comes from git (commit subjects,
author names, file names), from deploy output and from records stored before.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import assert_one_line_error, sha256_of, unsafe_in
from tests.integration.deploy_helpers import EVIL, deploy_repo, evil_service

BAD_INPUT = ["a\x9b31mb", "r\u200boot", "abc\u202edef", "x\u2066y\u2069", "\ufeffhi",
             "a\u2028b", "tag\U000e0041"]


@pytest.fixture
def evil(tmp_path: Path):
    return evil_service(tmp_path)


OUTPUTS = [
    ["list"], ["show", "HF-1"], ["scope", "HF-1"], ["checklist", "HF-1"],
    ["timeline", "INC-1"], ["export", "HF-1"], ["export", "HF-1", "--format", "json"],
    ["log", "D-1"], ["deploys"], ["status"], ["missing", "HF-1"], ["incident", "list"],
    ["incident", "show", "INC-1"], ["queue"],
]


def _all_outputs(svc) -> dict[str, str]:
    seen = {}
    for args in OUTPUTS:
        for extra in ([], ["--json"]):
            if args[0] == "export" and extra:
                continue
            res = svc.cli(*args, *extra)
            assert res.code == 0, (args, extra, res.err)
            seen[" ".join(args + extra)] = res.out + res.err
    return seen


def test_git_and_deploy_output_are_shown_harmlessly_everywhere(evil):
    seen = _all_outputs(evil)
    for what, text in seen.items():
        assert unsafe_in(text) == [], (what, unsafe_in(text))
    # made visible, not silently dropped: a reader sees that something was there
    assert "<U+200B>" in seen["scope HF-1"] and "<U+202E>" in seen["scope HF-1"]
    assert "<U+202E>" in seen["log D-1"]
    assert "csi  osc  rtl" in seen["log D-1"]  # 8-bit CSI and OSC removed whole, as 7-bit
    assert "<U+2066>" in seen["log D-1"]  # stderr too
    md = seen["export HF-1"]
    assert "app/r<U+200B>oot<U+202E>txt.py<U+009B>2J" in md  # the file name
    # JSON keeps the exact value, escaped: a parser reads what git holds
    doc = json.loads(seen["export HF-1 --format json"])
    assert [(c["subject"], c["author"]) for c in doc["commits"]] == [
        (f"Fix {EVIL} totals", f"Mal{EVIL}lory")]
    assert "\\u202e" in seen["scope HF-1 --json"]


def test_records_stored_before_are_shown_harmlessly(evil):
    """A title or a name an older version stored (or SQL wrote) is shown, never obeyed."""
    db = evil.path / ".git" / "hotfix" / "hotfix.db"
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER audit_events_no_update")
    conn.execute("UPDATE hotfixes SET title = ?, why = ?", (f"T{EVIL}", f"line\n{EVIL}"))
    conn.execute("UPDATE incidents SET title = ?, commander = ?", (f"I{EVIL}", f"c{EVIL}"))
    conn.execute("UPDATE audit_events SET actor = ?", (f"a{EVIL}",))
    conn.commit()
    conn.close()
    seen = _all_outputs(evil)
    for what, text in seen.items():
        assert unsafe_in(text) == [], (what, unsafe_in(text))
    assert "T<U+009B>2J" in seen["show HF-1"]
    res = evil.cli("audit", "verify")
    assert res.code == 1 and unsafe_in(res.out + res.err) == []


@pytest.mark.parametrize("bad", BAD_INPUT)
def test_typed_text_with_unsafe_characters_is_refused(tmp_path, bad):
    svc = deploy_repo(tmp_path)
    assert svc.cli("start", "--incident", "INC-1", "--title", "Fix totals").code == 0
    db = svc.path / ".git" / "hotfix" / "hotfix.db"
    before = sha256_of(db)
    attempts = [
        ["incident", "open", "--title", bad, "--sev", "1"],
        ["incident", "open", "--title", "t", "--sev", "1", "--service", bad],
        ["incident", "open", "--title", "t", "--sev", "1", "--commander", bad],
        ["incident", "note", "INC-1", bad],
        ["incident", "assign", "INC-1", "--commander", bad],
        ["start", "--incident", "INC-1", "--title", bad],
        ["edit", "HF-1", "--title", bad],
        ["edit", "HF-1", "--why", f"first line\n{bad}"],
        ["reject", "HF-1", "--comment", bad],
        ["abandon", "HF-1", "--reason", bad],
        ["lock", "--env", "production", "--reason", bad],
        ["rollback", "--env", "production", "--reason", bad],
        ["deploy", "HF-1", "--break-glass", bad],
    ]
    for args in attempts:
        res = svc.cli(*args)
        assert_one_line_error(res, contains="control characters or invisible formatting")
        assert unsafe_in(res.err) == [], args
    assert sha256_of(db) == before
    payload = tmp_path / "alerts.json"
    payload.write_text(json.dumps([{"title": bad, "severity": 2}]))
    res = svc.cli("incident", "import", str(payload))
    assert_one_line_error(res, contains="invisible formatting")
    assert sha256_of(db) == before
