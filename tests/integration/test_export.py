"""`hotfix export`, `hotfix timeline` and services.export_to_file on a full record."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import git
from tests.integration.release_helpers import (
    CLEAN_FIX,
    Release,
    commit_fix,
    deploy,
    document,
    make_release_repo,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "HF-1-record.md"


def normalise(text: str, rel: Release, tmp: Path) -> str:
    """Timestamps, commit ids, temporary paths and durations vary from run to run."""
    known = git(rel.path, "rev-list", "--all").split() + git(
        rel.path, "for-each-ref", "--format=%(objectname)").split()

    def sha(m: re.Match) -> str:
        return "<SHA>" if any(k.startswith(m.group(0)) for k in known) else m.group(0)

    from hotfix_tui.identity import os_account

    text = text.replace(str(tmp), "<TMP>")
    text = text.replace(f"OS account {os_account()})", "OS account <ME>)")
    text = re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z", "<TIME>", text)
    text = re.sub(r"\b[0-9a-f]{7,40}\b", sha, text)
    text = re.sub(r"\b\d+(\.\d)?s\b|\b\d+m\d\ds\b", "<DURATION>", text)
    return text


def full_record(tmp_path: Path) -> Release:
    """A stale approval, a failed deploy, a successful redeploy, a verification, a note,
    and the finish."""
    rel = make_release_repo(tmp_path)
    rel.ok("start", "--incident", "INC-1", "--title", "Round tax to cents")
    commit_fix(rel, CLEAN_FIX)
    document(rel)
    rel.ok("submit", "HF-1")
    rel.ok("approve", "HF-1", "--comment", "Looks right", actor="bob")
    # bob's approval goes stale for good: the content it binds never comes back (a tick
    # undone and redone would make it count again)
    rel.ok("edit", "HF-1", "--risk", "Low: one expression, rounding only")
    rel.ok("approve", "HF-1", "--comment", "Checked again", actor="carol")
    (rel.srv / "releases").write_text("not a folder\n")  # the first deploy fails
    assert deploy(rel).code == 3  # the run failed
    assert rel.show()["state"] == "failed"
    (rel.srv / "releases").unlink()
    assert deploy(rel).code == 0
    rel.ok("verify", "HF-1", "--env", "production")
    rel.ok("incident", "note", "INC-1", "Status page updated | customers refunded")
    rel.ok("finish", "HF-1")
    rel.ok("incident", "resolve", "INC-1")
    return rel


@pytest.fixture
def record(tmp_path: Path) -> Release:
    return full_record(tmp_path)


def test_markdown_export_matches_the_golden_file(record: Release, tmp_path: Path):
    out = tmp_path / "HF-1.md"
    res = record.ok("export", "HF-1", "--format", "md", "-o", str(out))
    assert res.out.strip() == f"wrote {out}"
    got = normalise(out.read_text(), record, tmp_path)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(got)
    assert got == GOLDEN.read_text()
    # standard output (not a terminal) gets the same Markdown
    assert normalise(record.ok("export", "HF-1").out, record, tmp_path) == got
    # a terminal gets it rendered by rich
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system=None)
    console.print(Markdown(out.read_text()))
    rendered = console.file.getvalue()
    assert "HF-1: Round tax to cents" in rendered and "documentation changed" in rendered


def test_json_export_follows_the_documented_schema(record: Release):
    doc = json.loads(record.ok("export", "HF-1", "--format", "json").out)
    assert doc["schema"] == "hotfix-tui/record/2" and doc["schema_version"] == 2
    same = json.loads(record.ok("export", "HF-1", "--json").out)
    assert {**same, "generated_at": None} == {**doc, "generated_at": None}
    schema_doc = (Path(__file__).resolve().parents[2] / "docs" / "export-schema.md").read_text()
    for key in doc:
        assert f"`{key}`" in schema_doc, key
    for section in ("hotfix", "incident", "verification", "release"):
        for key in doc[section]:
            assert f"`{section}.{key}`" in schema_doc, f"{section}.{key}"
    assert doc["hotfix"]["state"] == "finished" and doc["incident"]["status"] == "resolved"
    assert [(a["approver"], a["stale"]) for a in doc["approvals"]] == [("bob", True),
                                                                       ("carol", False)]
    assert [(d["key"], d["status"]) for d in doc["deploys"]] == [("D-1", "failed"),
                                                                 ("D-2", "succeeded")]
    assert all(d["duration_s"] is not None and d["duration_s"] >= 0 for d in doc["deploys"])
    assert doc["verification"]["state"] == "verified"
    assert doc["release"]["tag_sha"] == doc["sha"]
    ported = git(record.path, "rev-parse", "main")
    assert doc["release"]["forward_port"] == [{"branch": "main", "status": "ported",
                                               "missing": [], "state": "contained",
                                               "evidence": f"cherry-picked as {ported[:10]}"}]
    assert [c["subject"] for c in doc["commits"]] == ["Round tax to cents"]
    assert any(e["action"] == "incident.note" for e in doc["timeline"])


def test_export_to_file_for_the_history_browser(record: Release, tmp_path: Path, monkeypatch):
    from hotfix_tui import services

    ctx = services.open_context(record.path)
    folder = tmp_path / "reviews"
    folder.mkdir()
    path = services.export_to_file(ctx, "HF-1", folder)
    assert path == folder / "HF-1-record.md"
    assert path.read_text().startswith("# HF-1: Round tax to cents")
    # by default, under the data directory: never in the checkout (git status stays clean)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(record.path)
    default = services.export_to_file(ctx, "HF-1")
    assert default == tmp_path / "data" / "hotfix-tui" / "records" / record.path.name / \
        "HF-1-record.md"
    assert default.read_text().startswith("# HF-1: Round tax to cents")
    status = subprocess.run(["git", "status", "--porcelain"], cwd=record.path,
                            capture_output=True, text=True, check=True).stdout
    assert "record" not in status, status
    # or where [export] dir says (and a file path given is used as it is)
    chosen = services.export_to_file(ctx, "HF-1", tmp_path / "elsewhere" / "hf1.md")
    assert chosen == tmp_path / "elsewhere" / "hf1.md" and chosen.is_file()


def test_export_dir_must_be_absolute(tmp_path: Path):
    from hotfix_tui.config import ConfigError, parse_config

    assert parse_config('[export]\ndir = "/srv/records"\n').export.dir == "/srv/records"
    with pytest.raises(ConfigError, match=r"\.hotfix\.toml:2: export\.dir: must be an absolute"):
        parse_config('[export]\ndir = "records"\n')


def test_timeline_shows_every_event_and_the_notes(record: Release):
    events = record.ok("timeline", "INC-1", "--json").items()
    actions = [e["action"] for e in events]
    assert actions[0] == "incident.opened" and actions[-1] == "incident.resolved"
    for action in ("hotfix.started", "approval.stale", "deploy.failed", "deploy.succeeded",
                   "hotfix.verified", "incident.note", "finish.ported", "hotfix.finished"):
        assert action in actions
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    note = next(e for e in events if e["action"] == "incident.note")
    assert note["text"] == "note: Status page updated | customers refunded"
    text = record.ok("timeline", "INC-1").out
    assert "note: Status page updated | customers refunded" in text
    assert "! D-1 deploy failed (exit 1)" in text
