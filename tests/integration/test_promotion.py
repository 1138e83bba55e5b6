"""The release path through the real CLI and real runs: staging before production,
verification per environment, soak time, break-glass, rollback and finish per
environment."""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from hotfix_tui import services
from hotfix_tui.clock import utcnow
from hotfix_tui.core.errors import PolicyRefusal
from hotfix_tui.deploy.runner import wait_finished
from tests.helpers import ServiceRepo, assert_one_line_error, make_service_repo
from tests.integration.deploy_helpers import VERIFY_SH, approved_hotfix, submitted_hotfix

# Staging's deploy and check fail while a marker file exists, so a test can make them.
STAGING_DEPLOY = """#!/bin/sh
if [ -e "$3" ]; then echo "staging deploy broke" >&2; exit 2; fi
echo "deployed $1 ($2) to staging"
"""
STAGING_CHECK = """#!/bin/sh
if [ -e "$1" ]; then echo "smoke test failed" >&2; exit 3; fi
echo "smoke test ok"
"""


def promotion_config(srv: Path, soak: int = 300) -> str:
    return f"""\
[identity]
allow_override = true
sandbox = true  # one OS account plays alice and bob

[scope]
checklist = ["Root cause understood", "Rollback plan tested or obvious"]

[environments.production]
requires = ["staging"]
min_soak_s = {soak}
driver = "local-symlink"
path = "{srv}/production"
verify = ["./ops/verify.sh", "{srv}/production/current"]
timeout_s = 60

[environments.staging]
deploy = ["./ops/staging.sh", "{{version}}", "{{short_sha}}", "{srv}/staging-deploy-fails"]
verify = ["./ops/check.sh", "{srv}/staging-check-fails"]
verify_items = ["Checkout works on staging"]
timeout_s = 60
"""


def make_repo(tmp_path: Path, soak: int = 300) -> ServiceRepo:
    srv = tmp_path / "srv"
    (srv / "production").mkdir(parents=True)
    svc = make_service_repo(tmp_path / "shop", config=promotion_config(srv, soak),
                            extra={"ops/staging.sh": STAGING_DEPLOY,
                                   "ops/check.sh": STAGING_CHECK, "ops/verify.sh": VERIFY_SH})
    assert svc.cli("incident", "open", "--title", "Checkout totals wrong", "--sev", "1").code == 0
    for env in ("production", "staging"):
        assert svc.cli("adopt", "--env", env, "--ref", "v1.4.1",
                       "--reason", "running before the tool").code == 0
    svc.srv = srv
    return svc


@pytest.fixture
def svc(tmp_path):
    return make_repo(tmp_path)


def ok(svc, *args, actor="alice"):
    res = svc.cli(*args, actor=actor)
    assert res.code == 0, (args, res.out, res.err)
    return res


def runs(svc) -> list[dict]:
    return svc.cli("deploys", "--json").items()


def envs(svc, key="HF-1") -> dict[str, dict]:
    return {e["env"]: e for e in ok(svc, "show", key, "--json").json()["environments"]}


def state(svc, key="HF-1") -> str:
    return ok(svc, "show", key, "--json").json()["state"]


def staging_verified(svc, key="HF-1") -> None:
    ok(svc, "deploy", key, "--env", "staging")
    ok(svc, "verify", key, "--env", "staging")
    ok(svc, "verify", key, "--env", "staging", "--item", "1")
    assert envs(svc, key)["staging"]["state"] == "passed"


def later(svc, seconds: float, monkeypatch):
    """A services context whose clock runs `seconds` ahead of the wall clock."""
    monkeypatch.setenv("HOTFIX_ACTOR", "alice")
    return services.open_context(repo=svc.path,
                                 clock=lambda: utcnow() + timedelta(seconds=seconds))


def refused_unchanged(svc, res, needle: str) -> None:
    """One-line refusal naming the rule, and nothing changed."""
    before = (runs(svc), state(svc))
    assert_one_line_error(res, 1, needle)
    assert (runs(svc), state(svc)) == before


def test_production_is_refused_before_staging_succeeded(svc):
    approved_hotfix(svc)
    before = runs(svc)
    res = svc.cli("deploy", "HF-1", "--env", "production")
    assert_one_line_error(res, 1, "production requires staging first: HF-1 has not been "
                          "deployed to staging (hotfix deploy HF-1 --env staging)")
    assert runs(svc) == before and state(svc) == "approved"
    assert not (svc.srv / "production" / "current").exists()
    # a deploy to staging that failed is not a success there
    (svc.srv / "staging-deploy-fails").touch()
    assert svc.cli("deploy", "HF-1", "--env", "staging").code == 3  # the run failed
    refused_unchanged(svc, svc.cli("deploy", "HF-1", "--env", "production"),
                      "the deploy of HF-1 to staging failed (D-1); deploy it there again")


def test_production_is_refused_before_staging_was_verified(svc):
    approved_hotfix(svc)
    ok(svc, "deploy", "HF-1", "--env", "staging")
    assert envs(svc)["staging"]["state"] == "pending"
    refused_unchanged(svc, svc.cli("deploy", "HF-1", "--env", "production"),
                      "production requires staging verified: HF-1 runs there but is not "
                      "verified yet (hotfix verify HF-1 --env staging)")
    # the check passed, but the manual item is not ticked: still not verified
    ok(svc, "verify", "HF-1", "--env", "staging")
    assert envs(svc)["staging"]["state"] == "pending"
    refused_unchanged(svc, svc.cli("deploy", "HF-1", "--env", "production"),
                      "production requires staging verified")
    # a check that failed is a failed verification, and says which run
    (svc.srv / "staging-check-fails").touch()
    assert svc.cli("verify", "HF-1", "--env", "staging").code == 3  # the check failed
    assert envs(svc)["staging"]["state"] == "failed"
    refused_unchanged(svc, svc.cli("deploy", "HF-1", "--env", "production"),
                      "production requires staging verified: its verification there failed "
                      "(D-3); verify it again (hotfix verify HF-1 --env staging)")


def test_production_is_refused_during_the_soak_and_allowed_after(svc, monkeypatch):
    approved_hotfix(svc)
    staging_verified(svc)
    res = svc.cli("deploy", "HF-1", "--env", "production")
    refused_unchanged(svc, res, "production requires staging to soak: staging verified")
    assert re.search(r"staging verified \d+ s ago; soak 5 min \(\d+ min( \d+ s)? to go\)",
                     res.err), res.err
    # two minutes on, the refusal says what remains
    with pytest.raises(PolicyRefusal, match=r"staging verified 2 min( \d+ s)? ago; soak 5 "
                                            r"min \(\d+ min( \d+ s)? to go\)"):
        services.deploy(later(svc, 125, monkeypatch), "HF-1", "production")
    assert state(svc) == "deployed" and runs(svc)[0]["kind"] == "verify"
    # past the soak it goes
    ctx = later(svc, 301, monkeypatch)
    run = services.deploy(ctx, "HF-1", "production")
    final = wait_finished(str(ctx.db_path), int(run.key.split("-")[1]), timeout=60)
    assert str(final.status) == "succeeded" and final.bypassed == ()
    assert os.readlink(svc.srv / "production" / "current").startswith("releases/1.4.2-")
    there = envs(svc)
    assert there["production"]["state"] == "pending" and there["staging"]["state"] == "passed"
    assert state(svc) == "deployed"  # verified once production is


def test_break_glass_bypasses_the_release_path_and_is_flagged(svc):
    submitted_hotfix(svc)
    res = svc.cli("deploy", "HF-1", "--env", "production", "--break-glass",
                  "checkout down, staging broken")
    assert res.code == 0, res.err
    assert "warning: BREAK-GLASS bypasses the release path: production requires staging " \
           "first: HF-1 has not been deployed to staging" in res.err
    d = runs(svc)[0]
    assert d["env"] == "production" and d["break_glass"] is True
    assert d["bypassed"] == ["production requires staging first: HF-1 has not been deployed "
                             "to staging (hotfix deploy HF-1 --env staging)"]
    hf = ok(svc, "show", "HF-1", "--json").json()
    assert hf["break_glass"] is True and hf["needs_retroactive_approval"] is True
    timeline = ok(svc, "timeline", "INC-1").out
    assert "BREAK-GLASS deploy to production: checkout down, staging broken (bypassing " \
           "production requires staging first" in timeline
    record = ok(svc, "export", "HF-1", "--format", "json").json()
    assert record["deploys"][0]["bypassed"] == d["bypassed"]


def test_a_normal_deploy_bypasses_nothing_and_break_glass_never_passes_a_lock(svc):
    approved_hotfix(svc)
    staging_verified(svc)
    ok(svc, "lock", "--env", "production", "--reason", "change freeze")
    res = svc.cli("deploy", "HF-1", "--env", "production", "--break-glass", "urgent")
    assert_one_line_error(res, 1, "production is locked by alice")
    ok(svc, "unlock", "--env", "production", "--reason", "freeze over")
    assert svc.cli("deploy", "HF-1", "--env", "production").code == 1  # soaking
    assert all(r["bypassed"] == [] for r in runs(svc))


def test_verify_per_environment_from_the_cli(tmp_path):
    svc = make_repo(tmp_path, soak=0)
    approved_hotfix(svc)
    ok(svc, "deploy", "HF-1", "--env", "staging")
    # without --env: the environment that awaits verification
    res = ok(svc, "verify", "HF-1", "--item", "1", "--json").json()
    assert res["env"] == "staging" and res["verification"] == "pending"
    assert res["items"][0]["checked"] is True
    out = ok(svc, "verify", "HF-1").out
    assert "smoke test ok" in out
    assert envs(svc)["staging"]["state"] == "passed"
    assert state(svc) == "deployed"  # staging is not where finish needs it
    # production does not run it: verifying there is refused, and changes nothing
    refused_unchanged(svc, svc.cli("verify", "HF-1", "--env", "production"),
                      "production is not running HF-1 (1.4.2); it runs 1.4.1")
    status = {s["env"]: s for s in ok(svc, "status", "--hotfix", "HF-1", "--json").items()}
    assert [s for s in status] == ["staging", "production"]  # promotion order
    assert status["staging"]["hotfix"] == "HF-1"
    assert status["staging"]["verification"] == "passed"
    assert status["production"]["requires"] == ["staging"]
    assert status["production"]["path"]["next"] is True
    assert status["production"]["path"]["needs"] == [
        "deploy it (hotfix deploy HF-1 --env production)"]
    assert status["staging"]["path"]["next"] is False and status["staging"]["path"]["needs"] == []
    text = ok(svc, "status", "--hotfix", "HF-1").out
    assert re.search(r"production .* next: ready to deploy", text), text
    ok(svc, "deploy", "HF-1", "--env", "production")
    assert ok(svc, "verify", "HF-1").out.count("health check ok") == 1  # production now
    assert state(svc) == "verified"
    shown = ok(svc, "show", "HF-1").out
    assert re.search(r"on staging: +1\.4\.2 \(\w+\) deployed .*; verified by alice", shown)
    assert re.search(r"on production: +1\.4\.2 .*; verified by alice", shown)


def test_unticking_an_item_takes_the_verification_back(tmp_path):
    svc = make_repo(tmp_path, soak=0)
    approved_hotfix(svc)
    staging_verified(svc)
    ok(svc, "verify", "HF-1", "--env", "staging", "--item", "1", "--uncheck")
    assert envs(svc)["staging"]["state"] == "pending"
    refused_unchanged(svc, svc.cli("deploy", "HF-1", "--env", "production"),
                      "production requires staging verified")
    ok(svc, "verify", "HF-1", "--env", "staging", "--item", "1")
    assert envs(svc)["staging"]["state"] == "passed"
    (svc.srv / "staging-check-fails").touch()
    assert svc.cli("verify", "HF-1", "--env", "staging").code == 3  # the check failed
    assert envs(svc)["staging"]["state"] == "failed"
    assert ok(svc, "audit", "verify", "--json").json()["ok"] is True


def test_finish_requires_production_verified(tmp_path):
    svc = make_repo(tmp_path, soak=0)
    approved_hotfix(svc)
    staging_verified(svc)
    refused = svc.cli("finish", "HF-1")
    assert_one_line_error(refused, 1, "HF-1 was never deployed to production")
    ok(svc, "deploy", "HF-1", "--env", "production")
    refused = svc.cli("finish", "HF-1")
    assert_one_line_error(refused, 1, "HF-1 is deployed but not verified on production "
                          "(verified on staging only); run 'hotfix verify HF-1 --env "
                          "production', or give --skip-verify REASON")
    assert state(svc) == "deployed"
    ok(svc, "verify", "HF-1", "--env", "production")
    assert state(svc) == "verified"
    done = ok(svc, "finish", "HF-1", "--json").json()
    assert done["state"] == "finished"


def test_rollback_of_staging_leaves_production_alone(tmp_path):
    svc = make_repo(tmp_path, soak=0)
    approved_hotfix(svc)
    staging_verified(svc)
    ok(svc, "deploy", "HF-1", "--env", "production")
    ok(svc, "verify", "HF-1", "--env", "production")
    assert state(svc) == "verified"
    ok(svc, "rollback", "--env", "staging", "--reason", "staging db restore", actor="carol")
    there = envs(svc)
    assert there["staging"]["rolled_back_by"] == "D-5"
    assert there["production"]["state"] == "passed"
    assert there["production"]["rolled_back_by"] is None
    assert state(svc) == "verified"  # production still runs it, verified
    status = {s["env"]: s for s in ok(svc, "status", "--json").items()}
    assert status["production"]["hotfix"] == "HF-1"
    assert status["production"]["verification"] == "passed"
    assert status["staging"]["hotfix"] is None and status["staging"]["locked"] is True
    # what was rolled back on staging no longer counts there for another production deploy
    ok(svc, "unlock", "--env", "staging", "--reason", "restore done")
    refused_unchanged(svc, svc.cli("deploy", "HF-1", "--env", "production"),
                      "production requires staging first: HF-1 was rolled back on staging "
                      "(D-5); deploy and verify it there again")
    assert ok(svc, "finish", "HF-1", "--json").json()["state"] == "finished"
    # every verification record is what the audit chain says
    assert ok(svc, "audit", "verify", "--json").json()["ok"] is True


def test_a_verification_forged_with_sql_lets_nothing_through(svc):
    """Staging marked verified behind hotfix's back: the audit chain says otherwise, so
    `audit verify` names it and production's deploy is refused."""
    approved_hotfix(svc)
    ok(svc, "deploy", "HF-1", "--env", "staging")
    conn = sqlite3.connect(svc.path / ".git" / "hotfix" / "hotfix.db")
    conn.execute("UPDATE env_verifications SET state = 'passed', verified_by = 'alice', "
                 "verified_at = '2020-01-01T00:00:00.000Z'")
    conn.commit()
    conn.close()
    audit = svc.cli("audit", "verify")
    assert audit.code == 1
    assert "HF-1: its verification on staging is passed in the database, but pending by " \
        "the audit chain" in audit.out
    refused_unchanged(svc, svc.cli("deploy", "HF-1", "--env", "production"),
                      "HF-1: its verification on staging is passed in the database, but "
                      "pending by the audit chain (hotfix audit verify)")


def test_rollback_of_the_only_environment_rolls_the_hotfix_back(tmp_path):
    svc = make_repo(tmp_path, soak=0)
    approved_hotfix(svc)
    staging_verified(svc)
    ok(svc, "rollback", "--env", "staging", "--reason", "totals wrong on staging")
    assert state(svc) == "rolled_back"
    assert envs(svc)["staging"]["rolled_back_by"] == "D-3"
    assert_one_line_error(svc.cli("finish", "HF-1"), 1, "HF-1 is rolled_back")


def test_bad_input_changes_nothing(svc):
    approved_hotfix(svc)
    assert_one_line_error(svc.cli("verify", "HF-1", "--env", "qa"), 1,
                          "unknown environment 'qa'")
    assert_one_line_error(svc.cli("status", "--hotfix", "HF-9"), 1, "unknown hotfix HF-9")
    assert_one_line_error(svc.cli("status", "--hotfix", "nonsense"), 1, "not a valid HF key")
    assert runs(svc) == [] and state(svc) == "approved"


def test_existing_records_keep_their_verification(tmp_path):
    """A database from before verification per environment: every environment a hotfix
    was deployed to before it was verified keeps that verification."""
    from hotfix_tui.store import open_store, schema

    db = tmp_path / "legacy.db"
    conn = sqlite3.connect(db)
    before = next(i for i, m in enumerate(schema.MIGRATIONS)
                  if "CREATE TABLE env_verifications" in m)
    for script in schema.MIGRATIONS[:before]:
        for statement in schema._split(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {before}")
    conn.executescript(LEGACY_ROWS)
    conn.commit()
    conn.close()

    store = open_store(db)
    rows = {(r["hotfix_id"], r["env"]): r for r in store.all("SELECT * FROM env_verifications")}
    # HF-1: staging and production, then verified: passed on both, when and by whom
    for env in ("staging", "production"):
        r = rows[(1, env)]
        assert (r["state"], r["verified_by"], r["verified_at"]) == \
            ("passed", "bob", "2026-01-01T10:30:00.000Z")
        assert r["sha"] == "a" * 40
    # HF-2: verified on staging, deployed to production afterwards: production pending
    assert rows[(2, "staging")]["state"] == "passed"
    assert rows[(2, "production")]["state"] == "pending"
    assert rows[(2, "production")]["verified_at"] is None
    # HF-3: its check failed on staging, then staging was rolled back
    assert rows[(3, "staging")]["state"] == "failed"
    assert rows[(3, "staging")]["run_id"] == 7
    assert rows[(3, "staging")]["rollback_id"] == 8
    assert len(rows) == 5
    # runs from before: any environment counted (gate_env empty), nothing bypassed
    assert {r["gate_env"] for r in store.all("SELECT gate_env FROM deploys")} == {""}
    assert store.scalar("PRAGMA user_version") == schema.SCHEMA_VERSION


_DEPLOY = ("INSERT INTO deploys (id, key, hotfix_id, env, kind, status, sha, version, "
           "started_by, started_by_verified, started_at, finished_at) VALUES ")
LEGACY_ROWS = f"""
INSERT INTO incidents (id, key, title, severity, status, opened_by, opened_by_verified,
    opened_at) VALUES (1, 'INC-1', 'Checkout down', 1, 'open', 'alice', 1,
    '2026-01-01T09:00:00.000Z');
INSERT INTO hotfixes (id, key, incident_id, title, author, author_verified, base_ref,
    base_sha, branch, worktree, head_sha, version, state, created_at, updated_at) VALUES
 (1, 'HF-1', 1, 'One', 'alice', 1, 'v1', 'b', 'hotfix/1', '/w1', '{"a" * 40}', '1.0.1',
  'verified', '2026-01-01T09:00:00.000Z', '2026-01-01T10:30:00.000Z'),
 (2, 'HF-2', 1, 'Two', 'alice', 1, 'v1', 'b', 'hotfix/2', '/w2', '{"c" * 40}', '1.0.2',
  'deployed', '2026-01-01T09:00:00.000Z', '2026-01-01T12:00:00.000Z'),
 (3, 'HF-3', 1, 'Three', 'alice', 1, 'v1', 'b', 'hotfix/3', '/w3', '{"d" * 40}', '1.0.3',
  'rolled_back', '2026-01-01T09:00:00.000Z', '2026-01-01T13:00:00.000Z');
{_DEPLOY}
 (1, 'D-1', 1, 'staging', 'deploy', 'succeeded', '{"a" * 40}', '1.0.1', 'alice', 1,
  '2026-01-01T10:00:00.000Z', '2026-01-01T10:01:00.000Z'),
 (2, 'D-2', 1, 'production', 'deploy', 'succeeded', '{"a" * 40}', '1.0.1', 'alice', 1,
  '2026-01-01T10:10:00.000Z', '2026-01-01T10:11:00.000Z'),
 (3, 'D-3', 1, 'production', 'verify', 'succeeded', '{"a" * 40}', '1.0.1', 'bob', 1,
  '2026-01-01T10:20:00.000Z', '2026-01-01T10:29:00.000Z'),
 (4, 'D-4', 2, 'staging', 'deploy', 'succeeded', '{"c" * 40}', '1.0.2', 'alice', 1,
  '2026-01-01T11:00:00.000Z', '2026-01-01T11:01:00.000Z'),
 (5, 'D-5', 2, 'production', 'deploy', 'succeeded', '{"c" * 40}', '1.0.2', 'alice', 1,
  '2026-01-01T11:40:00.000Z', '2026-01-01T11:41:00.000Z'),
 (6, 'D-6', 3, 'staging', 'deploy', 'succeeded', '{"d" * 40}', '1.0.3', 'alice', 1,
  '2026-01-01T12:00:00.000Z', '2026-01-01T12:01:00.000Z'),
 (7, 'D-7', 3, 'staging', 'verify', 'failed', '{"d" * 40}', '1.0.3', 'alice', 1,
  '2026-01-01T12:10:00.000Z', '2026-01-01T12:11:00.000Z'),
 (8, 'D-8', 3, 'staging', 'rollback', 'succeeded', 'b', '1.0.0', 'alice', 1,
  '2026-01-01T12:20:00.000Z', '2026-01-01T12:21:00.000Z');
INSERT INTO audit_events (id, at, actor, actor_verified, entity, entity_key, action, hotfix,
    data, prev_hash, hash) VALUES
 (1, '2026-01-01T10:30:00.000Z', 'bob', 1, 'hotfix', 'HF-1', 'hotfix.verified', 'HF-1',
  '{{}}', '0', 'h1'),
 (2, '2026-01-01T11:20:00.000Z', 'alice', 1, 'hotfix', 'HF-2', 'hotfix.verified', 'HF-2',
  '{{}}', 'h1', 'h2');
"""
