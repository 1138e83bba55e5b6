"""Signed approvals through the real CLI: a real ssh-agent started by the test, keys made
with ssh-keygen in the test's folder, an allowed_signers file committed in the repository,
real deploys on the local-symlink driver, and SQL edits of the database behind the tool's
back."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from tests.helpers import (
    CONFIG_FOR_TESTS,
    assert_one_line_error,
    commit_file,
    git,
    make_service_repo,
    run,
    run_proc,
)
from tests.integration.release_helpers import CLEAN_FIX, Release, commit_fix, deploy, document
from tests.schemas import problems
from tests.sshkeys import make_key


def signed_repo(tmp_path: Path, policy: str = "required", signers=("bob", "carol"),
                extra_config: str = "") -> tuple[Release, dict]:
    """A service whose first commit lists `signers` in .hotfix/allowed_signers (so every
    release has them), with `[approvals] signatures = policy` and one open incident."""
    keys = {n: make_key(tmp_path / "keys", n) for n in ("bob", "carol", "mallory")}
    srv = tmp_path / "srv"
    srv.mkdir()
    config = (CONFIG_FOR_TESTS + f'\n[approvals]\nsignatures = "{policy}"\n{extra_config}'
              + f'\n[environments.production]\ndriver = "local-symlink"\npath = "{srv}"\n')
    extra = {".hotfix/allowed_signers": "".join(keys[n].allowed_line(n) for n in signers)}
    rel = Release(make_service_repo(tmp_path / "shop", config=config, extra=extra), srv)
    rel.ok("incident", "open", "--title", "Checkout totals wrong", "--sev", "1")
    return rel, keys


def submitted(rel: Release) -> str:
    rel.ok("start", "--incident", "INC-1", "--title", "Round tax to cents")
    sha = commit_fix(rel, CLEAN_FIX)
    document(rel)
    rel.ok("submit", "HF-1")
    return sha


def sql(rel: Release, statement: str, args=()) -> None:
    conn = sqlite3.connect(rel.db)
    try:
        conn.execute(statement, args)
        conn.commit()
    finally:
        conn.close()


def approvals_count(rel: Release) -> int:
    conn = sqlite3.connect(rel.db)
    try:
        return conn.execute("SELECT count(*) FROM approvals").fetchone()[0]
    finally:
        conn.close()


def test_approve_signs_through_the_agent_and_the_deploy_counts_it(tmp_path: Path, agent):
    rel, keys = signed_repo(tmp_path)
    agent.add(keys["bob"])
    submitted(rel)
    res = rel.ok("approve", "HF-1", actor="bob")
    assert f"signed with {keys['bob'].fingerprint()}" in res.out
    approval = rel.show()["approvals"][0]
    assert approval["signature"] == {"signed": True, "principal": "bob",
                                     "key_fingerprint": keys["bob"].fingerprint(),
                                     "valid": True, "reason": None}
    assert deploy(rel).code == 0
    audit = rel.ok("audit", "verify", "--json").json()
    assert audit["ok"] and audit["signatures"] == {"checked": 1, "valid": 1, "unsigned": 0,
                                                   "unverified": 0, "bad": []}
    # away from the repository there are no allowed signers to judge by: not verified,
    # which is not a forgery (and never counts where a signature is required)
    away = run(["--db", str(rel.db), "audit", "verify", "--json"], cwd=tmp_path,
               env={"HOTFIX_ACTOR": None})
    assert away.json()["signatures"]["unverified"] == 1
    assert not [p for p in away.json()["problems"] if p["kind"] == "signature"]
    assert away.json()["signatures"]["valid"] == 0


def test_approve_signs_with_a_key_file(tmp_path: Path):
    key_dir = tmp_path / "keys"
    rel, keys = signed_repo(tmp_path, extra_config="")
    # [identity] signing_key: the key file, named in the committed config
    config = (rel.path / ".hotfix.toml").read_text().replace(
        "[identity]\n", f'[identity]\nsigning_key = "{key_dir / "bob"}"\n')
    commit_file(rel.path, ".hotfix.toml", config, "Sign with a key file")
    submitted(rel)
    rel.ok("approve", "HF-1", actor="bob")
    sig = rel.show()["approvals"][0]["signature"]
    assert sig["valid"] and sig["key_fingerprint"] == keys["bob"].fingerprint()


def test_hotfix_signing_key_names_a_key_file_for_one_person(tmp_path: Path):
    rel, keys = signed_repo(tmp_path)
    submitted(rel)
    res = rel.svc.cli("approve", "HF-1", actor="bob",
                      env={"HOTFIX_SIGNING_KEY": str(keys["bob"].path)})
    assert res.code == 0, res.err
    assert rel.show()["approvals"][0]["signature"]["valid"]


def test_without_an_agent_a_required_signature_refuses_with_the_fix(tmp_path: Path):
    rel, _ = signed_repo(tmp_path)
    submitted(rel)
    res = rel.cli("approve", "HF-1", actor="bob")
    assert_one_line_error(res, contains="SSH_AUTH_SOCK is not set")
    assert "ssh -A" in res.err and "ssh-add" in res.err
    assert approvals_count(rel) == 0 and rel.show()["state"] == "in_review"


def test_without_an_agent_an_optional_signature_is_left_out_and_said(tmp_path: Path):
    rel, _ = signed_repo(tmp_path, policy="optional")
    submitted(rel)
    res = rel.ok("approve", "HF-1", actor="bob")
    assert "note: approved unsigned: no SSH agent: SSH_AUTH_SOCK is not set" in res.err
    approval = rel.show()["approvals"][0]
    assert approval["signature"]["signed"] is False and rel.show()["state"] == "approved"
    assert deploy(rel).code == 0  # optional: unsigned counts


def test_no_allowed_signers_file_means_nothing_to_sign_and_nothing_said(tmp_path: Path,
                                                                         agent):
    rel, keys = signed_repo(tmp_path, policy="optional", signers=())
    git(rel.path, "rm", "-q", ".hotfix/allowed_signers")
    git(rel.path, "commit", "-q", "-m", "No approvers list")
    agent.add(keys["bob"])
    rel.ok("start", "--incident", "INC-1", "--title", "Round tax", "--base", "main")
    commit_fix(rel, CLEAN_FIX)
    document(rel)
    rel.ok("submit", "HF-1")
    res = rel.ok("approve", "HF-1", actor="bob")
    assert "note:" not in res.err and "signed" not in res.out
    assert rel.show()["approvals"][0]["signature"]["signed"] is False


def test_a_key_not_listed_for_the_approver_is_refused_with_the_reason(tmp_path: Path, agent):
    rel, keys = signed_repo(tmp_path)
    agent.add(keys["carol"])  # carol's key is listed, but for carol
    agent.add(keys["mallory"])  # mallory's is not listed at all
    submitted(rel)
    res = rel.cli("approve", "HF-1", actor="bob")
    assert_one_line_error(res, contains="none of your keys")
    assert "is listed for bob in .hotfix/allowed_signers at" in res.err
    assert f'bob namespaces="hotfix-approval" ssh-ed25519 {keys["carol"].blob}' in res.err
    assert approvals_count(rel) == 0


def test_a_hotfix_cannot_add_its_own_approvers(tmp_path: Path, agent):
    rel, keys = signed_repo(tmp_path)
    agent.add(keys["mallory"])
    rel.ok("start", "--incident", "INC-1", "--title", "Round tax to cents")
    commit_fix(rel, CLEAN_FIX)
    wt = rel.worktree()
    listed = (wt / ".hotfix/allowed_signers").read_text() + keys["mallory"].allowed_line("bob")
    commit_file(wt, ".hotfix/allowed_signers", listed, "Add an approver")
    document(rel)
    rel.ok("submit", "HF-1")
    res = rel.cli("approve", "HF-1", actor="bob")
    assert_one_line_error(res, contains="the hotfix changes the allowed signers itself")
    assert "a change cannot add its own approvers" in res.err


def test_required_refuses_to_deploy_an_unsigned_approval(tmp_path: Path, agent):
    rel, keys = signed_repo(tmp_path)
    agent.add(keys["bob"])
    submitted(rel)
    rel.ok("approve", "HF-1", actor="bob")
    # behind the tool's back: the signature stripped from the row, and a second approval
    # inserted without one
    sql(rel, "UPDATE approvals SET signature = '', signature_version = 0")
    sql(rel, "INSERT INTO approvals (hotfix_id, approver, approver_account, approver_verified,"
        " decision, head_sha, tree_sha, checklist_hash, doc_hash, config_hash, at) SELECT "
        "hotfix_id, 'carol', 'carol', 1, decision, head_sha, tree_sha, checklist_hash, "
        "doc_hash, config_hash, at FROM approvals")
    shown = rel.show()["approvals"]
    assert [(a["approver"], a["signature"]["signed"], a["counts"]) for a in shown] == [
        ("bob", False, False), ("carol", False, False)]
    res = deploy(rel)
    assert res.code == 1
    assert "bob's approval is unsigned and [approvals] signatures = \"required\"; it does " \
           "not count" in res.err
    assert "carol's approval is unsigned" in res.err
    assert not (rel.srv / "current").exists()
    audit = rel.cli("audit", "verify")
    assert audit.code == 1 and audit.out.count("no audit event backs it") == 2
    # break-glass stays possible, and flagged
    glass = rel.cli("deploy", "HF-1", "--env", "production", "--break-glass", "SEV1 now")
    assert glass.code == 0, glass.err
    assert rel.show()["break_glass"] is True


def test_an_sql_edit_of_a_signed_approval_is_caught_and_never_counts(tmp_path: Path, agent):
    rel, keys = signed_repo(tmp_path)
    agent.add(keys["bob"])
    submitted(rel)
    rel.ok("approve", "HF-1", actor="bob")
    # alice adds a commit: bob's approval goes stale, and she makes it cover the new head
    # with SQL: the same row, another head sha.
    new_head = commit_file(rel.worktree(), "app/extra.py", "X = 1\n", "More")
    assert rel.show()["state"] == "in_review"
    tree = git(rel.path, "rev-parse", f"{new_head}^{{tree}}")
    sql(rel, "UPDATE approvals SET head_sha = ?, tree_sha = ?, stale = 0, stale_reason = ''",
        (new_head, tree))
    sql(rel, "UPDATE hotfixes SET state = 'approved'")
    approval = rel.show()["approvals"][0]
    assert approval["sha"] == new_head and not approval["stale"]
    assert approval["signature"]["valid"] is False
    assert "changed after signing" in approval["signature"]["reason"]
    res = deploy(rel)
    assert res.code == 1 and "bob's approval does not count: bad signature" in res.err
    assert not (rel.srv / "current").exists()
    audit = rel.cli("audit", "verify")
    assert audit.code == 1
    flagged = [ln for ln in audit.out.splitlines() if "bad signature" in ln]
    assert len(flagged) == 1 and flagged[0].startswith("- HF-1: approved by bob at ")
    assert "the signed content differs from the record" in flagged[0]
    assert audit.err.startswith("error: the audit trail does not verify")
    # the chain says the same from its side: no event backs the edited row
    assert "no audit event backs it" in audit.out
    # another approver written over a signed row fails the same way
    sql(rel, "UPDATE approvals SET head_sha = (SELECT head_sha FROM hotfixes), approver = "
        "'carol'")
    doc = rel.cli("audit", "verify", "--json").json()
    assert [b["approver"] for b in doc["signatures"]["bad"]] == ["carol"]


def test_rejections_are_signed_and_the_record_verifies_without_the_database(tmp_path: Path,
                                                                              agent):
    rel, keys = signed_repo(tmp_path)
    agent.add(keys["bob"])
    agent.add(keys["carol"])
    submitted(rel)
    rej = rel.ok("reject", "HF-1", "--comment", "Round half even, please", actor="carol")
    assert f"signed with {keys['carol'].fingerprint()}" in rej.out
    rel.ok("submit", "HF-1")
    rel.ok("approve", "HF-1", "--comment", "Good", actor="bob")
    assert deploy(rel).code == 0
    decisions = rel.show()["approvals"]
    assert [(a["decision"], a["signature"]["valid"]) for a in decisions] == [
        ("rejected", True), ("approved", True)]
    rel.ok("export", "HF-1", "-o", str(tmp_path / "HF-1-record.md"))
    rel.ok("export", "HF-1", "--format", "json", "-o", str(tmp_path / "HF-1-record.json"))
    # signed decisions follow the published JSON contract
    assert problems(rel.show(), "hotfix.json") == []
    assert problems(json.loads((tmp_path / "HF-1-record.json").read_text()),
                    "record.json") == []
    assert problems(rel.ok("audit", "verify", "--json").json(), "audit-verify.json") == []

    # Another machine: the record, the repository's allowed_signers, no database, no repo.
    auditor = tmp_path / "auditor"
    auditor.mkdir()
    for name in ("HF-1-record.md", "HF-1-record.json"):
        shutil.copy(tmp_path / name, auditor / name)
    (auditor / "allowed_signers").write_text(
        git(rel.path, "show", "HEAD:.hotfix/allowed_signers") + "\n")
    env = {"HOME": str(auditor), "HOTFIX_DB": None, "HOTFIX_ACTOR": None}
    for name in ("HF-1-record.md", "HF-1-record.json"):
        res = run_proc(["verify-record", name, "--allowed-signers", "allowed_signers",
                        "--require-signed"], cwd=auditor, env=env)
        assert res.code == 0, (name, res.out, res.err)
        assert "1. carol rejected" in res.out and "2. bob approved" in res.out
        assert res.out.count("valid, key SHA256:") == 2
        doc = run_proc(["verify-record", name, "--allowed-signers", "allowed_signers",
                        "--json"], cwd=auditor, env=env)
        assert problems(json.loads(doc.out), "verify-record.json") == []
        assert json.loads(doc.out)["valid"] == 2
    # ... or a clone of the repository, which has no database, judging by each commit
    clone = auditor / "clone"
    git(auditor, "clone", "-q", str(rel.path), str(clone))
    res = run_proc(["--repo", str(clone), "verify-record", str(auditor / "HF-1-record.md")],
                   cwd=auditor, env=env)
    assert res.code == 0, res.err
    assert "checked against .hotfix/allowed_signers in" in res.out
    assert not (clone / ".git" / "hotfix").exists()
    # an edited record fails: the approval said to be mallory's
    text = (auditor / "HF-1-record.md").read_text()
    (auditor / "forged.md").write_text(text.replace("### 2. bob approved",
                                                    "### 2. mallory approved"))
    forged = run_proc(["verify-record", "forged.md", "--allowed-signers", "allowed_signers"],
                      cwd=auditor, env=env)
    assert forged.code == 1 and "the record says approver 'mallory'" in forged.out


def test_doctor_says_whether_this_account_can_sign(tmp_path: Path, agent):
    rel, keys = signed_repo(tmp_path)
    cannot = rel.ok("doctor", "--json", actor="bob").json()
    signing = next(c for c in cannot["checks"] if c["name"] == "signing")
    assert signing["status"] == "warn" and "holds no keys" in signing["detail"]
    assert "ssh -A" in signing["fix"]
    agent.add(keys["bob"])
    can = rel.ok("doctor", "--json", actor="bob").json()
    signing = next(c for c in can["checks"] if c["name"] == "signing")
    assert signing["status"] == "ok" and keys["bob"].fingerprint() in signing["detail"]


def test_the_timeline_says_an_approval_was_signed(tmp_path: Path, agent):
    rel, keys = signed_repo(tmp_path)
    agent.add(keys["bob"])
    submitted(rel)
    rel.ok("approve", "HF-1", actor="bob")
    lines = [ln for ln in rel.ok("timeline", "INC-1").out.splitlines() if "approved at" in ln]
    assert len(lines) == 1 and f"signed {keys['bob'].fingerprint()[:19]}" in lines[0]
