"""Signed approvals, as pure code: the canonical payload a decision signs, reading an
SSH signature (`ssh-keygen -Y sign` output) and an `allowed_signers` file, and the
policy that says when a signature is needed.

The payload is the record another bastion, an auditor or `hotfix verify-record`
rebuilds byte for byte: JSON with sorted keys, no whitespace, UTF-8, and a version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

NAMESPACE = "hotfix-approval"
PAYLOAD_VERSION = 1
POLICIES = ("off", "optional", "required")
DECISIONS = ("approved", "rejected")

# Every field of a version-1 payload (besides "version"), in no particular order:
# json.dumps sorts them. `approver` is the name the approval records, `account` the OS
# account behind it, `principal` the name the allowed signers were asked about: the
# account (in a sandbox, where one account plays several people, the name).
PAYLOAD_FIELDS = (
    "hotfix", "repository", "head_sha", "tree_sha", "checklist_hash", "doc_hash",
    "config_hash", "decision", "approver", "account", "principal", "at", "comment",
)


# ---- the payload ------------------------------------------------------------------------

def canonical_json(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8 (not \\u escapes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False).encode("utf-8")


def approval_payload(**values: str) -> bytes:
    """The bytes a decision signs. Every field of PAYLOAD_FIELDS, each a string."""
    missing = [f for f in PAYLOAD_FIELDS if f not in values]
    extra = [f for f in values if f not in PAYLOAD_FIELDS]
    if missing or extra:
        raise ValueError(f"payload fields: missing {missing}, unknown {extra}")
    for name, value in values.items():
        if not isinstance(value, str):
            raise ValueError(f"payload field {name} must be a string, not {value!r}")
    if values["decision"] not in DECISIONS:
        raise ValueError(f"payload decision must be one of {DECISIONS}")
    return canonical_json({"version": PAYLOAD_VERSION, **values})


def parse_payload(data: bytes | str) -> dict[str, str]:
    """A payload read back (from an exported record): canonical, of a known version,
    every field present. Raises ValueError saying what is wrong."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the signed payload is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ValueError("the signed payload is not a JSON object")
    version = value.get("version")
    if version != PAYLOAD_VERSION:
        raise ValueError(f"unknown payload version {version!r} (this hotfix-tui reads "
                         f"version {PAYLOAD_VERSION})")
    fields = {k: v for k, v in value.items() if k != "version"}
    try:
        rebuilt = approval_payload(**fields)
    except ValueError as exc:
        raise ValueError(f"the signed payload is malformed: {exc}") from exc
    if rebuilt != raw:
        raise ValueError("the signed payload is not in canonical form")
    return fields


# ---- SSH signatures (PROTOCOL.sshsig) -----------------------------------------------------

@dataclass(frozen=True)
class SigInfo:
    """What an armored SSH signature says about itself, before anyone verifies it."""

    key_type: str
    public_key: str  # base64 of the public key blob, as in authorized_keys
    namespace: str
    hash_alg: str

    @property
    def fingerprint(self) -> str:
        from base64 import b64decode

        return fingerprint(b64decode(self.public_key))


# base64 and hashlib (OpenSSL) load only when a signature is read: most commands read none


def fingerprint(blob: bytes) -> str:
    """The key's SHA256 fingerprint, spelled as ssh-keygen -l spells it."""
    from base64 import b64encode
    from hashlib import sha256

    return "SHA256:" + b64encode(sha256(blob).digest()).decode().rstrip("=")


def key_fingerprint(public_key_line: str) -> str:
    """Fingerprint of `type base64 [comment]`; '' if the line is not a public key."""
    parts = public_key_line.split()
    if len(parts) < 2:
        return ""
    from base64 import b64decode

    try:
        return fingerprint(b64decode(parts[1], validate=True))
    except ValueError:  # binascii.Error too
        return ""


_ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_ARMOR_END = "-----END SSH SIGNATURE-----"


def parse_signature(armored: str) -> SigInfo:
    """Read an `ssh-keygen -Y sign` signature; ValueError if it is not one."""
    text = armored.strip()
    if not (text.startswith(_ARMOR_BEGIN) and text.endswith(_ARMOR_END)):
        raise ValueError("not an SSH signature (no BEGIN/END SSH SIGNATURE lines)")
    body = "".join(text[len(_ARMOR_BEGIN):-len(_ARMOR_END)].split())
    from base64 import b64decode, b64encode

    try:
        blob = b64decode(body, validate=True)
    except ValueError as exc:  # binascii.Error too
        raise ValueError("not an SSH signature (bad base64)") from exc
    if not blob.startswith(b"SSHSIG"):
        raise ValueError("not an SSH signature (no SSHSIG magic)")
    reader = _Reader(blob[6:])
    version = reader.uint32()
    if version != 1:
        raise ValueError(f"unknown SSH signature version {version}")
    public_key = reader.string()
    namespace = reader.string().decode("utf-8", "replace")
    reader.string()  # reserved
    hash_alg = reader.string().decode("ascii", "replace")
    reader.string()  # the signature itself: ssh-keygen checks it
    key_type = _Reader(public_key).string().decode("ascii", "replace")
    return SigInfo(key_type, b64encode(public_key).decode(), namespace, hash_alg)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def uint32(self) -> int:
        if self.pos + 4 > len(self.data):
            raise ValueError("not an SSH signature (truncated)")
        value = int.from_bytes(self.data[self.pos:self.pos + 4], "big")
        self.pos += 4
        return value

    def string(self) -> bytes:
        size = self.uint32()
        if self.pos + size > len(self.data):
            raise ValueError("not an SSH signature (truncated)")
        value = self.data[self.pos:self.pos + size]
        self.pos += size
        return value


# ---- allowed_signers ------------------------------------------------------------------------

@dataclass(frozen=True)
class AllowedKey:
    """One line of an allowed-signers file."""

    principals: tuple[str, ...]  # patterns, as in the file
    key_type: str
    public_key: str  # base64 blob
    namespaces: tuple[str, ...]  # empty: any namespace
    cert_authority: bool
    line: int

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(f"{self.key_type} {self.public_key}")

    def allows(self, principal: str, namespace: str = NAMESPACE) -> bool:
        if self.cert_authority:
            return False  # certificates are ssh-keygen's business; we pick plain keys
        if self.namespaces and not _matches(namespace, self.namespaces):
            return False
        return _matches(principal, self.principals)


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    """OpenSSH's pattern lists: `*` and `?` wildcards, `!` negates and wins."""
    hit = False
    for pattern in patterns:
        if pattern.startswith("!"):
            if fnmatchcase(name, pattern[1:]):
                return False
        elif fnmatchcase(name, pattern):
            hit = True
    return hit


def parse_allowed_signers(text: str) -> list[AllowedKey]:
    """Lines of git's / ssh-keygen's allowed_signers format this code can read. A line
    it cannot read is skipped: ssh-keygen, which verifies, has the last word."""
    keys = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line and not line.startswith("#"):
            key = _parse_line(line, n)
            if key is not None:
                keys.append(key)
    return keys


def _parse_line(line: str, n: int) -> AllowedKey | None:
    """`principals [options] keytype base64 [comment]`."""
    parts = _split_outside_quotes(line, None)
    if len(parts) < 3:
        return None
    principals = tuple(p for p in parts[0].strip('"').split(",") if p)
    rest = parts[1:]
    options: list[str] = []
    while rest and not _is_key_type(rest[0]):
        options.extend(o for o in _split_outside_quotes(rest.pop(0), ",") if o)
    if len(rest) < 2:
        return None
    namespaces: tuple[str, ...] = ()
    for opt in options:
        if opt.lower().startswith("namespaces="):
            namespaces = tuple(x for x in opt.split("=", 1)[1].strip('"').split(",") if x)
    return AllowedKey(principals, rest[0], rest[1], namespaces,
                      any(o.lower() == "cert-authority" for o in options), n)


def _split_outside_quotes(text: str, sep: str | None) -> list[str]:
    """Split at `sep` (None: runs of blanks) where not inside double quotes."""
    out, buf, quoted = [], [], False
    for c in text:
        if c == '"':
            quoted = not quoted
        if not quoted and (c == sep or (sep is None and c in " \t")):
            if buf:
                out.append("".join(buf))
            buf = []
            continue
        buf.append(c)
    if buf:
        out.append("".join(buf))
    return out


def _is_key_type(token: str) -> bool:
    return token.startswith(("ssh-", "ecdsa-", "sk-", "rsa-sha2-"))


def allowed_keys_for(text: str, principal: str) -> list[AllowedKey]:
    """The keys `principal` may sign approvals with, by the file's plain key lines."""
    return [k for k in parse_allowed_signers(text) if k.allows(principal)]


def principals_of_key(text: str, public_key: str) -> list[str]:
    """The principal patterns a key (base64 blob) is listed for."""
    return [p for k in parse_allowed_signers(text) if k.public_key == public_key
            for p in k.principals]


def allowed_signers_line(principal: str, public_key_line: str) -> str:
    """The line that lets `principal` sign with this key (`type base64`)."""
    key_type, blob = public_key_line.split()[:2]
    return f'{principal} namespaces="{NAMESPACE}" {key_type} {blob}'


# ---- what a check found, and the policy -------------------------------------------------------

@dataclass(frozen=True)
class SignatureCheck:
    """One approval's signature, verified: who signed, with which key, and whether it
    counts. `signed` False: there is no signature at all."""

    signed: bool
    principal: str | None
    key_fingerprint: str | None
    valid: bool | None  # None: signed, but not verified (yet)
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"signed": self.signed, "principal": self.principal or None,
                "key_fingerprint": self.key_fingerprint or None, "valid": self.valid,
                "reason": self.reason or None}

    @property
    def mark(self) -> str:
        """A short label: `signed SHA256:…`, `unsigned`, `BAD SIGNATURE`."""
        if not self.signed:
            return "unsigned"
        if self.valid is None:
            return f"signed {self.key_fingerprint} (not verified)"
        return f"signed {self.key_fingerprint}" if self.valid else "BAD SIGNATURE"


UNSIGNED = SignatureCheck(False, None, None, False, "unsigned")


def signature_counts(check: SignatureCheck | None, policy: str) -> bool:
    """Does an approval with this signature count under `policy`? Only `required`
    asks for a valid signature; under the others a signature is evidence, not a gate."""
    if policy != "required":
        return True
    return check is not None and check.signed and check.valid is True


def signature_refusal(approver: str, check: SignatureCheck | None, policy: str) -> str:
    """Why `approver`'s approval does not count for want of a good signature, or ''."""
    if signature_counts(check, policy):
        return ""
    if check is None or not check.signed:
        return (f"{approver}'s approval is unsigned and [approvals] signatures = "
                "\"required\"; it does not count")
    return f"{approver}'s approval does not count: bad signature: {check.reason}"


def principal_problem(fields: dict[str, str]) -> str:
    """A signature speaks for the approver only when it was checked for the approver's
    account (or, in a sandbox, their name): '' when it was."""
    if fields.get("principal") in (fields.get("account"), fields.get("approver")):
        return ""
    return (f"signed as {fields.get('principal')!r}, who is neither the approver "
            f"{fields.get('approver')!r} nor their account {fields.get('account')!r}")


def verify_time(at: str) -> str:
    """An ISO-8601 UTC time (2026-11-26T03:12:00.000Z) as ssh-keygen's verify-time
    (20261126031200Z): a key is judged by its validity when it signed."""
    digits = "".join(c for c in at[:19] if c.isdigit())
    if len(digits) != 14:
        raise ValueError(f"not an ISO-8601 time: {at!r}")
    return digits + "Z"


def payload_for(approval, hotfix: str) -> bytes:
    """The payload an approval (a core.models.Approval) signed, rebuilt from its record:
    a record changed after signing rebuilds other bytes, and its signature fails."""
    if approval.signature_version != PAYLOAD_VERSION:
        raise ValueError(f"signed payload version {approval.signature_version} is unknown "
                         f"to this hotfix-tui (it reads version {PAYLOAD_VERSION})")
    return approval_payload(
        hotfix=hotfix, repository=approval.repository, head_sha=approval.sha,
        tree_sha=approval.tree_sha, checklist_hash=approval.checklist_hash,
        doc_hash=approval.doc_hash, config_hash=approval.config_hash,
        decision=approval.decision, approver=approval.approver,
        account=approval.approver_account, principal=approval.signer, at=approval.at,
        comment=approval.comment)
