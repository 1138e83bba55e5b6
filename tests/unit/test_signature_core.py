"""The canonical payload, reading SSH signatures and allowed_signers, the policy: pure."""

from __future__ import annotations

import base64
import struct

import pytest

from hotfix_tui.core import signature as sg

FIELDS = dict(hotfix="HF-7", repository="0" * 40, head_sha="1" * 40, tree_sha="2" * 40,
              checklist_hash="3" * 64, doc_hash="4" * 64, config_hash="5" * 64,
              decision="approved", approver="bob", account="bob", principal="bob",
              at="2026-11-26T03:12:00.000Z", comment="ça marche")


def test_the_payload_is_byte_for_byte_fixed():
    # Another bastion rebuilds exactly these bytes: sorted keys, no spaces, UTF-8.
    expected = (
        '{"account":"bob","approver":"bob","at":"2026-11-26T03:12:00.000Z","checklist_hash":"'
        + "3" * 64 + '","comment":"ça marche","config_hash":"' + "5" * 64
        + '","decision":"approved","doc_hash":"' + "4" * 64 + '","head_sha":"' + "1" * 40
        + '","hotfix":"HF-7","principal":"bob","repository":"' + "0" * 40 + '","tree_sha":"'
        + "2" * 40 + '","version":1}'
    ).encode("utf-8")
    assert sg.approval_payload(**FIELDS) == expected
    assert sg.approval_payload(**dict(reversed(list(FIELDS.items())))) == expected


def test_a_payload_reads_back_and_refuses_anything_else():
    data = sg.approval_payload(**FIELDS)
    assert sg.parse_payload(data) == FIELDS
    assert sg.parse_payload(data.decode()) == FIELDS
    with pytest.raises(ValueError, match="canonical"):
        sg.parse_payload(data.replace(b'"approver":"bob",', b'"approver": "bob",'))
    with pytest.raises(ValueError, match="version"):
        sg.parse_payload(data.replace(b'"version":1', b'"version":2'))
    with pytest.raises(ValueError, match="not JSON"):
        sg.parse_payload(b"{")
    with pytest.raises(ValueError, match="missing"):
        sg.parse_payload(data.replace(b'"comment":"\xc3\xa7a marche",', b""))


@pytest.mark.parametrize("bad", [dict(decision="maybe"), dict(at=3), dict(extra="x")])
def test_a_payload_with_a_bad_field_is_refused(bad):
    with pytest.raises(ValueError):
        sg.approval_payload(**{**FIELDS, **bad})


def _sshsig(key_type: bytes, key: bytes, namespace: bytes) -> str:
    def s(b: bytes) -> bytes:
        return struct.pack(">I", len(b)) + b
    pub = s(key_type) + s(key)
    blob = b"SSHSIG" + struct.pack(">I", 1) + s(pub) + s(namespace) + s(b"") \
        + s(b"sha512") + s(b"sig")
    body = base64.b64encode(blob).decode()
    return ("-----BEGIN SSH SIGNATURE-----\n" + "\n".join(
        body[i:i + 70] for i in range(0, len(body), 70)) + "\n-----END SSH SIGNATURE-----\n")


def test_a_signature_names_its_key_and_namespace():
    info = sg.parse_signature(_sshsig(b"ssh-ed25519", b"k" * 32, b"hotfix-approval"))
    assert info.key_type == "ssh-ed25519" and info.namespace == "hotfix-approval"
    assert info.hash_alg == "sha512" and info.fingerprint.startswith("SHA256:")
    line = f"ssh-ed25519 {info.public_key} bob"
    assert sg.key_fingerprint(line) == info.fingerprint


@pytest.mark.parametrize("text", [
    "", "hello", "-----BEGIN SSH SIGNATURE-----\n!!!\n-----END SSH SIGNATURE-----",
    "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----",
    _sshsig(b"ssh-ed25519", b"k", b"x")[:60] + "\n-----END SSH SIGNATURE-----",
])
def test_what_is_not_a_signature_says_so(text):
    with pytest.raises(ValueError, match="not an SSH signature"):
        sg.parse_signature(text)


ALLOWED = """\
# the team's approvers
bob ssh-ed25519 AAAAbob
"alice,carol" namespaces="git,hotfix-approval" ssh-ed25519 AAAAalice alice@laptop
dave namespaces="git" ssh-ed25519 AAAAdave
*@example.com,!mallory@example.com ssh-ed25519 AAAAteam
erin cert-authority ssh-ed25519 AAAAca
frank valid-after="20200101",valid-before="20990101" ecdsa-sha2-nistp256 AAAAfrank
garbage
"""


@pytest.mark.parametrize("who, keys", [
    ("bob", ["AAAAbob"]),
    ("carol", ["AAAAalice"]),
    ("dave", []),  # git-only key
    ("x@example.com", ["AAAAteam"]),
    ("mallory@example.com", []),  # negated
    ("erin", []),  # a CA is ssh-keygen's business
    ("frank", ["AAAAfrank"]),
    ("nobody", []),
])
def test_allowed_signers_are_read_like_ssh_keygen(who, keys):
    assert [k.public_key for k in sg.allowed_keys_for(ALLOWED, who)] == keys


def test_the_line_to_add_restricts_the_namespace():
    line = sg.allowed_signers_line("bob", "ssh-ed25519 AAAAnew bob@laptop")
    assert line == 'bob namespaces="hotfix-approval" ssh-ed25519 AAAAnew'
    assert [k.public_key for k in sg.allowed_keys_for(line, "bob")] == ["AAAAnew"]
    assert sg.principals_of_key(ALLOWED, "AAAAalice") == ["alice", "carol"]


def test_verify_time_is_ssh_keygens_spelling():
    assert sg.verify_time("2026-11-26T03:12:09.123Z") == "20261126031209Z"
    with pytest.raises(ValueError):
        sg.verify_time("yesterday")


def test_only_required_asks_for_a_good_signature():
    good = sg.SignatureCheck(True, "bob", "SHA256:x", True, "")
    bad = sg.SignatureCheck(True, "bob", "SHA256:x", False, "the record changed")
    for policy in ("off", "optional"):
        assert all(sg.signature_counts(c, policy) for c in (good, bad, sg.UNSIGNED, None))
    assert sg.signature_counts(good, "required")
    assert not sg.signature_counts(bad, "required")
    assert not sg.signature_counts(sg.UNSIGNED, "required")
    assert "unsigned" in sg.signature_refusal("bob", sg.UNSIGNED, "required")
    assert "the record changed" in sg.signature_refusal("bob", bad, "required")
    assert sg.signature_refusal("bob", good, "required") == ""
    assert good.mark == "signed SHA256:x" and bad.mark == "BAD SIGNATURE"
    assert sg.UNSIGNED.to_json() == {"signed": False, "principal": None,
                                     "key_fingerprint": None, "valid": False,
                                     "reason": "unsigned"}


def test_a_signature_not_verified_yet_is_said_so_and_never_counts():
    from hotfix_tui.core.models import Approval

    armored = _sshsig(b"ssh-ed25519", b"k" * 32, b"hotfix-approval")
    a = Approval(approver="bob", approver_verified=True, decision="approved", sha="1" * 40,
                 tree_sha="2" * 40, checklist_hash="3", config_hash="5", stale=False,
                 stale_reason="", at="2026-11-26T03:12:00.000Z", signature=armored,
                 signature_version=1)
    check = a.signature_check()
    assert check.signed and check.valid is None and check.principal == "bob"
    assert check.key_fingerprint == sg.parse_signature(armored).fingerprint
    assert a.to_json()["signature"]["valid"] is None
    assert not sg.signature_counts(check, "required")
    assert check.mark.endswith("(not verified)")


def test_a_signature_speaks_for_the_approver_or_their_account_only():
    assert sg.principal_problem({"principal": "bob", "approver": "bob", "account": "root"}) == ""
    assert sg.principal_problem({"principal": "root", "approver": "bob", "account": "root"}) == ""
    assert "neither the approver" in sg.principal_problem(
        {"principal": "carol", "approver": "bob", "account": "bob"})
