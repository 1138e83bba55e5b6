"""Reading the signatures of a record back: every way the file around a signature can lie
is caught, with real signatures from the real ssh-keygen. (The whole flow, from an
approval in the console's database to `verify-record` elsewhere, is in
test_signed_approvals.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hotfix_tui import signing
from hotfix_tui.core.record_signatures import payload_text, render
from hotfix_tui.core.signature import approval_payload
from tests.helpers import assert_one_line_error, run
from tests.sshkeys import make_key

HEAD = "1" * 40
FIELDS = dict(hotfix="HF-3", repository="0" * 40, head_sha=HEAD, tree_sha="2" * 40,
              checklist_hash="3" * 64, doc_hash="4" * 64, config_hash="5" * 64,
              decision="approved", approver="bob", account="bob", principal="bob",
              at="2026-11-26T03:12:00.000Z", comment="fine by me ```")


def _record(tmp_path: Path):
    bob = make_key(tmp_path / "keys", "bob")
    payload = approval_payload(**FIELDS)
    armored = signing.sign(payload, signing.SigningKey(bob.public, bob.path), agent=None)
    approval = {"approver": "bob", "approver_account": "bob", "approver_verified": True,
                "decision": "approved",
                "sha": HEAD, "tree_sha": "2" * 40, "checklist_hash": "3" * 64,
                "doc_hash": "4" * 64, "config_hash": "5" * 64, "stale": False,
                "stale_reason": "", "at": FIELDS["at"], "comment": FIELDS["comment"],
                "retroactive": False,
                "signature": {"signed": True, "principal": "bob", "key_fingerprint": "x",
                              "valid": True, "reason": None, "armored": armored,
                              "payload": payload_text(payload)}}
    unsigned = {**approval, "approver": "carol", "signature": {
        "signed": False, "principal": None, "key_fingerprint": None, "valid": False,
        "reason": "unsigned", "armored": None, "payload": None}}
    rec = {"hotfix": {"key": "HF-3", "base_sha": "9" * 40}, "approvals": [approval, unsigned],
           "signing": {"policy": "optional", "allowed_signers": ".hotfix/allowed_signers"}}
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(bob.allowed_line("bob"))
    return rec, allowed


def _md(rec) -> str:
    return "# HF-3: Fix totals\n\nsome text\n" + "\n".join(render(rec)) + "\n\n## Deploys\n"


def _verify(path: Path, allowed: Path, *extra: str):
    return run(["verify-record", str(path), "--allowed-signers", str(allowed), *extra],
               cwd=path.parent)


def test_a_markdown_and_a_json_record_verify(tmp_path: Path):
    rec, allowed = _record(tmp_path)
    md = tmp_path / "HF-3-record.md"
    md.write_text(_md(rec))
    res = _verify(md, allowed)
    assert res.code == 0, res.err
    assert "1. bob approved 111111111111: valid, key SHA256:" in res.out
    assert "2. carol approved 111111111111: unsigned" in res.out
    js = tmp_path / "HF-3.json"
    js.write_text(json.dumps(rec, indent=2))
    doc = _verify(js, allowed, "--json").json()
    assert doc["ok"] and doc["signed"] == 1 and doc["valid"] == 1 and doc["unsigned"] == 1
    # an unsigned decision fails when signatures are required of the record
    required = _verify(md, allowed, "--require-signed")
    assert_one_line_error(required, contains="1 decision without a valid signature (2. carol)")


@pytest.mark.parametrize("edit, why", [
    (lambda t: t.replace(f"bob approved `{HEAD}`", f"bob approved `{'7' * 40}`"),
     "the record says head_sha"),
    (lambda t: t.replace("# HF-3:", "# HF-4:"), "it signs HF-3, the record is HF-4"),
    (lambda t: t.replace('"fine by me', '"fine by you'), "signed content differs"),
    (lambda t: t.replace('"approver":"bob"', '"approver":"carl"'), "the record says approver"),
    (lambda t: t.replace("-----END SSH SIGNATURE-----", ""), "not an SSH signature"),
])
def test_an_edited_markdown_record_fails(tmp_path: Path, edit, why):
    rec, allowed = _record(tmp_path)
    md = tmp_path / "HF-3-record.md"
    text = _md(rec)
    edited = edit(text)
    assert edited != text
    md.write_text(edited)
    res = _verify(md, allowed)
    assert res.code == 1
    assert "BAD SIGNATURE" in res.out and why in res.out, res.out


def test_an_edited_json_record_fails(tmp_path: Path):
    rec, allowed = _record(tmp_path)
    rec["approvals"][0]["tree_sha"] = "8" * 40  # the record's claim, not the signed one
    js = tmp_path / "HF-3.json"
    js.write_text(json.dumps(rec))
    doc = _verify(js, allowed, "--json").json()
    assert not doc["ok"]
    assert "the record says tree_sha" in doc["decisions"][0]["signature"]["reason"]


def test_a_key_the_reviewer_does_not_trust_fails(tmp_path: Path):
    rec, _ = _record(tmp_path)
    other = make_key(tmp_path / "keys", "mallory")
    allowed = tmp_path / "theirs"
    allowed.write_text(other.allowed_line("bob"))
    md = tmp_path / "HF-3-record.md"
    md.write_text(_md(rec))
    res = _verify(md, allowed)
    assert res.code == 1 and "is not listed for bob in" in res.out


def test_bad_input_is_one_line(tmp_path: Path):
    rec, allowed = _record(tmp_path)
    md = tmp_path / "HF-3-record.md"
    md.write_text(_md(rec))
    assert_one_line_error(_verify(tmp_path / "nope.md", allowed), contains="no such file")
    (tmp_path / "notes.md").write_text("# Notes\n")
    assert_one_line_error(_verify(tmp_path / "notes.md", allowed),
                          contains="not an exported hotfix record")
    (tmp_path / "broken.json").write_text("{")
    assert_one_line_error(_verify(tmp_path / "broken.json", allowed),
                          contains="not an exported hotfix record")
    assert_one_line_error(_verify(md, tmp_path / "missing_signers"), contains="no such file")
    # outside any repository, without --allowed-signers there is nothing to trust
    outside = run(["verify-record", str(md)], cwd=tmp_path)
    assert_one_line_error(outside, contains="--allowed-signers")
