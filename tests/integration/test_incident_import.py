"""`hotfix incident import`: Alertmanager payloads and plain lists, idempotent."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import assert_one_line_error, init_repo, run


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = init_repo(tmp_path / "repo")
    (path / ".hotfix.toml").write_text("[identity]\nallow_override = true\n"
                                       "[incidents]\nseverity_map = { disaster = 1, "
                                       "warning = 3 }\n")
    return path


def cli(repo: Path, *args: str):
    return run(list(args), cwd=repo, env={"HOTFIX_ACTOR": "pager"})


def alert(name: str, status: str = "firing", severity: str = "critical",
          fingerprint: str | None = None, **labels) -> dict:
    a = {"status": status,
         "labels": {"alertname": name, "severity": severity, "service": "checkout", **labels},
         "annotations": {"summary": f"{name} on checkout"},
         "startsAt": "2026-03-01T14:00:00Z"}
    if fingerprint:
        a["fingerprint"] = fingerprint
    return a


def webhook(*alerts: dict) -> dict:
    return {"version": "4", "status": "firing", "receiver": "hotfix", "alerts": list(alerts)}


def write(path: Path, doc) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


def counts(repo: Path) -> tuple[int, int]:
    conn = sqlite3.connect(repo / ".git" / "hotfix" / "hotfix.db")
    try:
        return (conn.execute("SELECT count(*) FROM incidents").fetchone()[0],
                conn.execute("SELECT count(*) FROM audit_events").fetchone()[0])
    finally:
        conn.close()


def test_alertmanager_payload_imported_twice_creates_the_incidents_once(repo, tmp_path):
    payload = write(tmp_path / "am.json", webhook(
        alert("CheckoutErrors", fingerprint="a1b2c3"),
        alert("SlowPayments", severity="warning", fingerprint="d4e5f6"),
        alert("DiskFull", status="resolved", fingerprint="0000ff"),
    ))
    first = cli(repo, "incident", "import", payload, "--json")
    assert first.code == 0, first.err
    doc = first.json()
    assert doc["counts"]["created"] == 2 and doc["counts"]["skipped"] == 1
    assert [(i["outcome"], i["incident"], i["severity"]) for i in doc["items"]] == [
        ("created", "INC-1", 1), ("created", "INC-2", 3), ("skipped", None, 1)]

    second = cli(repo, "incident", "import", payload, "--json").json()
    assert second["counts"]["unchanged"] == 2 and second["counts"]["created"] == 0
    incidents = cli(repo, "incident", "list", "--json").items()
    assert sorted((i["key"], i["title"], i["severity"], i["service"]) for i in incidents) == [
        ("INC-1", "CheckoutErrors: CheckoutErrors on checkout", 1, "checkout"),
        ("INC-2", "SlowPayments: SlowPayments on checkout", 3, "checkout")]
    text = cli(repo, "incident", "import", payload).out
    assert "unchanged INC-1" in text and "2 unchanged, 1 skipped" in text

    # the alert resolves: so does its incident; escalation updates the other
    later = write(tmp_path / "later.json", webhook(
        alert("CheckoutErrors", status="resolved", fingerprint="a1b2c3"),
        alert("SlowPayments", severity="disaster", fingerprint="d4e5f6")))
    doc = cli(repo, "incident", "import", later, "--json").json()
    assert [(i["outcome"], i["incident"]) for i in doc["items"]] == [("resolved", "INC-1"),
                                                                    ("updated", "INC-2")]
    assert cli(repo, "incident", "show", "INC-1", "--json").json()["status"] == "resolved"
    assert cli(repo, "incident", "show", "INC-2", "--json").json()["severity"] == 1
    assert counts(repo)[0] == 2

    timeline = cli(repo, "timeline", "INC-1", "--json").items()
    assert [e["action"] for e in timeline] == ["incident.opened", "incident.resolved"]
    assert timeline[0]["extra"]["source"] == "alertmanager"
    assert timeline[0]["text"].endswith("from alertmanager")
    assert cli(repo, "audit", "verify").out.startswith("ok:")


def test_a_plain_list_is_idempotent_too(repo, tmp_path):
    items = [{"title": "Login fails", "severity": "sev2", "service": "auth"},
             {"title": "Search slow", "severity": 4, "service": "search"},
             {"title": "Mystery", "severity": "whatever"}]
    path = write(tmp_path / "list.json", items)
    doc = cli(repo, "incident", "import", path, "--json").json()
    assert [(i["outcome"], i["severity"]) for i in doc["items"]] == [
        ("created", 2), ("created", 4), ("created", 1)]
    assert doc["items"][2]["note"] == "unknown severity 'whatever': SEV1"
    before = counts(repo)
    again = cli(repo, "incident", "import", path, "--json").json()
    assert again["counts"]["unchanged"] == 3
    assert counts(repo) == before


def test_a_refiring_alert_reopens_its_resolved_incident(repo, tmp_path):
    path = write(tmp_path / "am.json", webhook(alert("CheckoutErrors", fingerprint="abc")))
    assert cli(repo, "incident", "import", path).code == 0
    assert cli(repo, "incident", "resolve", "INC-1").code == 0
    doc = cli(repo, "incident", "import", path, "--json").json()
    assert doc["items"][0]["outcome"] == "reopened"
    assert cli(repo, "incident", "show", "INC-1", "--json").json()["status"] == "open"


BAD = [
    ("{not json", "not valid JSON"),
    ('{"alerts": {"a": 1}}', "alerts must be a list"),
    ('{"alerts": [{"labels": {"severity": "critical"}}]}', "alerts[0]: labels.alertname is "
                                                         "missing"),
    ('{"alerts": [{"status": "pending", "labels": {"alertname": "X"}}]}',
     "status must be firing or resolved"),
    # one bad item refuses the whole file, good ones before it included
    ('[{"title": "ok", "severity": 1}, {"severity": 2}]', "item 1: title is missing"),
    ('[{"title": "a\\u001b[31m", "severity": 1}]', "control characters"),
    # like `incident open`: never cut silently, never read as something else
    ('[{"title": "' + "x" * 201 + '", "severity": 2}]', "title is 201 characters long; the "
                                                         "limit is 200"),
    ('[{"title": 404, "severity": 2}]', "title must be a string, not a number (404)"),
    ('[{"title": "Disk full", "severity": 7}]', "severity 7 is out of range"),
    ('[{"title": "Disk full", "severity": "SEV0"}]', "severity 'SEV0' is out of range"),
    ('{"alerts": [{"labels": {"alertname": "' + "A" * 201 + '"}}]}',
     "labels.alertname is 201 characters long"),
    ('"just a string"', "expected an Alertmanager payload"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m for _, m in BAD])
def test_a_malformed_file_changes_nothing(repo, tmp_path, text, message):
    good = write(tmp_path / "good.json", webhook(alert("CheckoutErrors", fingerprint="x1")))
    assert cli(repo, "incident", "import", good).code == 0
    before = counts(repo)
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    res = cli(repo, "incident", "import", str(bad))
    assert_one_line_error(res, 1, message)
    assert str(bad) in res.err
    assert counts(repo) == before


def test_a_long_alert_summary_shortens_the_title_and_says_so(repo, tmp_path):
    """An annotation is prose a rule writes: the title shows its start, the result and
    the audit event say it was cut (the alert name is never cut)."""
    a = alert("CheckoutErrors", fingerprint="long1", severity="disaster")
    a["annotations"]["summary"] = "s" * 500
    doc = cli(repo, "incident", "import", write(tmp_path / "am.json", webhook(a)),
              "--json").json()
    item = doc["items"][0]
    assert len(item["title"]) == 200 and item["title"].startswith("CheckoutErrors: sss")
    assert item["title"].endswith("…")
    assert item["note"] == "title shortened from 516 characters"
    assert cli(repo, "incident", "show", "INC-1", "--json").json()["title"] == item["title"]
    opened = cli(repo, "timeline", "INC-1", "--json").items()[0]
    assert opened["extra"]["note"] == "title shortened from 516 characters"


def test_a_missing_file(repo, tmp_path):
    res = cli(repo, "incident", "import", str(tmp_path / "nope.json"))
    assert_one_line_error(res, 1, "no such file")
    assert not (repo / ".git" / "hotfix").exists()
