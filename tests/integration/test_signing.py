"""The signing module against the real ssh-keygen and a real ssh-agent started here."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from hotfix_tui import signing
from hotfix_tui.core.signature import approval_payload, parse_signature
from tests.sshkeys import SSH_ADD, Agent, make_key

PAYLOAD = approval_payload(
    hotfix="HF-1", repository="r" * 40, head_sha="a" * 40, tree_sha="b" * 40,
    checklist_hash="c" * 64, doc_hash="d" * 64, config_hash="e" * 64,
    decision="approved", approver="bob", account="bob", principal="bob",
    at="2026-11-26T03:12:00.000Z", comment="")


def test_sign_through_the_agent_and_verify(tmp_path: Path, agent):
    bob = make_key(tmp_path / "keys", "bob")
    agent.add(bob)
    os.remove(bob.path)  # only the agent has the private half now
    allowed = bob.allowed_line("bob")

    key = signing.choose_key("bob", allowed, "allowed_signers", configured=None,
                             agent=agent.socket)
    assert key.private_file is None and key.blob == bob.blob
    sig = signing.sign(PAYLOAD, key, agent=agent.socket)

    info = parse_signature(sig)
    assert info.namespace == "hotfix-approval"
    assert info.fingerprint == bob.fingerprint() == key.fingerprint
    assert signing.verify(PAYLOAD, sig, allowed, "bob").ok
    assert signing.find_principals(sig, allowed) == ["bob"]
    assert signing.intact(PAYLOAD, sig)


def test_sign_with_a_key_file_without_an_agent(tmp_path: Path):
    bob = make_key(tmp_path / "keys", "bob")
    key = signing.choose_key("bob", bob.allowed_line("bob"), "allowed_signers",
                             configured=bob.path, agent=None)
    assert key.private_file == bob.path
    sig = signing.sign(PAYLOAD, key, agent=None)
    assert signing.verify(PAYLOAD, sig, bob.allowed_line("bob"), "bob").ok


def test_a_public_key_path_signs_through_the_agent_holding_its_private_half(
        tmp_path: Path, agent):
    bob = make_key(tmp_path / "keys", "bob")
    agent.add(bob)
    key = signing.choose_key("bob", bob.allowed_line("bob"), "x", configured=bob.pub,
                             agent=agent.socket)
    assert key.private_file is None
    assert signing.verify(PAYLOAD, signing.sign(PAYLOAD, key, agent=agent.socket),
                          bob.allowed_line("bob"), "bob").ok


def test_a_public_key_the_agent_does_not_hold_says_how_to_load_it(tmp_path: Path, agent):
    bob = make_key(tmp_path / "keys", "bob")
    with pytest.raises(signing.AgentError) as exc:
        signing.choose_key("bob", bob.allowed_line("bob"), "x", configured=bob.pub,
                           agent=agent.socket)
    assert f"ssh-add {bob.path}" in str(exc.value)


def test_no_agent_is_a_clear_error_with_the_fix(tmp_path: Path):
    with pytest.raises(signing.AgentError) as exc:
        signing.choose_key("bob", "", "x", configured=None, agent=None)
    text = str(exc.value)
    assert "SSH_AUTH_SOCK is not set" in text and "ssh -A" in text and "ssh-add" in text


def test_an_agent_that_is_gone_is_named(tmp_path: Path):
    a = Agent(tmp_path / "gone")
    a.stop()
    with pytest.raises(signing.AgentError) as exc:
        signing.agent_keys(a.socket)
    assert "cannot reach the SSH agent" in str(exc.value) and a.socket in str(exc.value)


def test_an_empty_agent_says_to_add_a_key(tmp_path: Path, agent):
    with pytest.raises(signing.AgentError) as exc:
        signing.choose_key("bob", "", "x", configured=None, agent=agent.socket)
    assert "holds no keys" in str(exc.value) and "ssh-add" in str(exc.value)


def test_a_key_not_listed_for_the_principal_is_refused_with_the_line_to_add(
        tmp_path: Path, agent):
    bob = make_key(tmp_path / "keys", "bob")
    carol = make_key(tmp_path / "keys", "carol")
    agent.add(carol)
    allowed = bob.allowed_line("bob") + carol.allowed_line("carol")
    with pytest.raises(signing.SigningError) as exc:
        signing.choose_key("bob", allowed, ".hotfix/allowed_signers at 1234abcd",
                           configured=None, agent=agent.socket)
    text = str(exc.value)
    assert "listed for bob in .hotfix/allowed_signers at 1234abcd" in text
    assert f'bob namespaces="hotfix-approval" ssh-ed25519 {carol.blob}' in text
    # and the configured file refused the same way
    with pytest.raises(signing.SigningError, match="is not listed for bob"):
        signing.choose_key("bob", allowed, "x", configured=carol.path, agent=None)


def test_a_key_with_a_passphrase_never_prompts_and_says_ssh_add(tmp_path: Path):
    bob = make_key(tmp_path / "keys", "bob", passphrase="correct horse")
    with pytest.raises(signing.SigningError) as exc:
        signing.choose_key("bob", bob.allowed_line("bob"), "x", configured=bob.path,
                           agent=None)
    assert "needs its passphrase" in str(exc.value)
    assert f"ssh-add {bob.path}" in str(exc.value)
    # without the .pub beside it the public half cannot be read either: same answer
    bob.pub.unlink()
    with pytest.raises(signing.SigningError, match="needs its passphrase"):
        signing.choose_key("bob", bob.allowed_line("bob"), "x", configured=bob.path,
                           agent=None)


def test_a_key_with_a_passphrase_loaded_into_the_agent_signs(tmp_path: Path, agent):
    bob = make_key(tmp_path / "keys", "bob", passphrase="correct horse")
    askpass = tmp_path / "askpass.sh"
    askpass.write_text("#!/bin/sh\necho 'correct horse'\n")
    askpass.chmod(0o700)
    subprocess.run([SSH_ADD, str(bob.path)], check=True, capture_output=True,
                   stdin=subprocess.DEVNULL, start_new_session=True,
                   env={**os.environ, "SSH_AUTH_SOCK": agent.socket, "DISPLAY": ":0",
                        "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force"})
    key = signing.choose_key("bob", bob.allowed_line("bob"), "x", configured=bob.path,
                             agent=agent.socket)
    assert key.private_file is None
    sig = signing.sign(PAYLOAD, key, agent=agent.socket)
    assert signing.verify(PAYLOAD, sig, bob.allowed_line("bob"), "bob").ok


def test_a_changed_payload_or_another_principal_fails(tmp_path: Path):
    bob = make_key(tmp_path / "keys", "bob")
    key = signing.choose_key("bob", bob.allowed_line("bob"), "x", configured=bob.path,
                             agent=None)
    sig = signing.sign(PAYLOAD, key, agent=None)
    changed = PAYLOAD.replace(b"a" * 40, b"f" * 40)
    assert not signing.intact(changed, sig)
    assert not signing.verify(changed, sig, bob.allowed_line("bob"), "bob").ok
    assert not signing.verify(PAYLOAD, sig, bob.allowed_line("bob"), "alice").ok
    assert signing.find_principals(sig, bob.allowed_line("alice")) == ["alice"]
    other_namespace = signing.verify(PAYLOAD, sig, bob.allowed_line("bob"), "bob",
                                     namespace="git")
    assert not other_namespace.ok


def test_verify_time_judges_the_key_when_it_signed(tmp_path: Path):
    bob = make_key(tmp_path / "keys", "bob")
    sig = signing.sign(PAYLOAD, signing.SigningKey(bob.public, bob.path), agent=None)
    # a key valid only from 2030 on: it does not verify now, it does at a 2031 signing time
    future = f'bob valid-after="20300101" {bob.public}\n'
    assert not signing.verify(PAYLOAD, sig, future, "bob").ok
    assert signing.verify(PAYLOAD, sig, future, "bob", at="20310101000000Z").ok
