"""The signatures of an exported record: written into its Markdown, and read back from
Markdown or JSON by `hotfix verify-record`, which needs no database.

Each signed decision carries its payload (as ASCII-escaped JSON: readable, and no
byte a terminal or a sanitiser could change) and the armored SSH signature. The
verifier rebuilds the canonical bytes from the payload and checks that the record
around it says the same thing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .signature import NAMESPACE, canonical_json, parse_payload

PAYLOAD_INFO = "hotfix-approval"
SIGNATURE_INFO = "ssh-signature"


def payload_text(payload: bytes) -> str:
    """The payload as one line of ASCII JSON (canonical once parsed back)."""
    return json.dumps(json.loads(payload.decode("utf-8")), sort_keys=True,
                      separators=(",", ":"), ensure_ascii=True)


def _ts(value: Any) -> str:
    text = str(value or "")
    return text[:19].replace("T", " ") + "Z" if len(text) >= 19 else (text or "-")


def _fence(body: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def heading(n: int, entry: dict[str, Any]) -> str:
    return (f"### {n}. {entry['approver']} {entry['decision']} `{entry['sha']}` "
            f"at {_ts(entry['at'])}")


def render(rec: dict[str, Any]) -> list[str]:
    """The Markdown section `## Signatures`."""
    approvals = rec.get("approvals") or []
    info = rec.get("signing") or {}
    out = ["", "## Signatures", ""]
    if not approvals:
        return out + ["_No decisions to sign._"]
    out += [f"Decisions are signed with the approver's SSH key (`ssh-keygen -Y sign -n "
            f"{NAMESPACE}`) over the payload shown. Signatures were checked against "
            f"`{info.get('allowed_signers') or '-'}` at each approved commit when this "
            f"record was made (policy: {info.get('policy') or '-'}). Check them again, "
            "without the database: `hotfix verify-record FILE --allowed-signers "
            "ALLOWED_SIGNERS`, or inside a clone of the repository.", "",
            f"Hotfix base: `{rec['hotfix']['base_sha']}`."]
    for n, a in enumerate(approvals, 1):
        sig = a.get("signature") or {}
        out += ["", heading(n, a), ""]
        if not sig.get("armored"):
            out.append("_Unsigned._")
            continue
        state = "valid" if sig.get("valid") else f"**NOT VALID**: {sig.get('reason')}"
        out += [f"Key `{sig.get('key_fingerprint')}`, principal `{sig.get('principal')}`: "
                f"{state}.", ""]
        body = sig.get("payload") or ""
        fence = _fence(body)
        out += [f"{fence}{PAYLOAD_INFO}", body, fence, "",
                f"```{SIGNATURE_INFO}", sig["armored"].strip(), "```"]
    return out


# ---- reading a record back ----------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One decision as the record states it, with its signature if it has one."""

    n: int
    approver: str
    decision: str
    sha: str
    at: str  # as the record shows it
    payload: bytes | None  # canonical bytes, rebuilt
    fields: dict[str, str] | None
    armored: str | None
    problem: str  # the record itself is wrong here ('' if not)


@dataclass(frozen=True)
class RecordSignatures:
    """The signed decisions an exported record holds, as read back from it."""

    hotfix: str
    base_sha: str
    entries: list[Entry]


class RecordError(ValueError):
    """Not a record this version can read."""


def read_record(text: str) -> RecordSignatures:
    """The decisions of an exported record (Markdown or JSON)."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return _read_json(stripped)
    return _read_markdown(text)


def _rebuild(payload: Any) -> tuple[bytes | None, dict[str, str] | None, str]:
    """The canonical bytes of a payload as the record carries it (text or object)."""
    try:
        obj = json.loads(payload) if isinstance(payload, str) else payload
        if not isinstance(obj, dict):
            raise ValueError("the signed payload is not a JSON object")
        data = canonical_json(obj)
        return data, parse_payload(data), ""
    except (ValueError, TypeError) as exc:
        return None, None, str(exc)


def _read_json(text: str) -> RecordSignatures:
    try:
        rec = json.loads(text)
        hotfix = rec["hotfix"]["key"]
        base = rec["hotfix"].get("base_sha") or ""
        approvals = rec.get("approvals") or []
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordError(f"not an exported hotfix record (JSON): {exc}") from exc
    entries = []
    for n, a in enumerate(approvals, 1):
        sig = a.get("signature") or {}
        payload, fields, problem = (None, None, "")
        if sig.get("armored"):
            payload, fields, problem = _rebuild(sig.get("payload"))
        entries.append(Entry(n, str(a.get("approver")), str(a.get("decision")),
                             str(a.get("sha")), str(a.get("at")), payload, fields,
                             sig.get("armored") or None, problem))
        if fields is not None:
            entries[-1] = _cross_check(entries[-1], hotfix, {
                "approver": a.get("approver"), "decision": a.get("decision"),
                "head_sha": a.get("sha"), "tree_sha": a.get("tree_sha"),
                "checklist_hash": a.get("checklist_hash"), "doc_hash": a.get("doc_hash"),
                "config_hash": a.get("config_hash"), "at": a.get("at"),
                "comment": a.get("comment"), "account": a.get("approver_account")},
                shown=str)
    return RecordSignatures(hotfix, base, entries)


_TITLE = re.compile(r"^# (HF-\d+): ", re.M)
_BASE = re.compile(r"^Hotfix base: `([0-9a-f]+)`\.$", re.M)
_HEADING = re.compile(r"^### (\d+)\. (\S+) (approved|rejected) `([0-9a-f]+)` at (.+)$")
_FENCE = re.compile(r"^(`{3,})(\S*)\s*$")


def _read_markdown(text: str) -> RecordSignatures:
    title = _TITLE.search(text)
    if title is None or "\n## Signatures\n" not in text:
        raise RecordError("not an exported hotfix record: no `# HF-n:` title or no "
                          "`## Signatures` section (export it again with this version)")
    section = text.split("\n## Signatures\n", 1)[1]
    section = re.split(r"^## ", section, flags=re.M)[0]
    base = _BASE.search(section)
    entries = []
    blocks = re.split(r"^(?=### )", section, flags=re.M)[1:]
    for block in blocks:
        lines = block.splitlines()
        m = _HEADING.match(lines[0])
        if m is None:
            continue
        n, approver, decision, sha, at = m.groups()
        fenced = _fenced(lines[1:])
        armored = fenced.get(SIGNATURE_INFO)
        payload, fields, problem = (None, None, "")
        if armored:
            if PAYLOAD_INFO not in fenced:
                problem = "the signature has no payload beside it"
            else:
                payload, fields, problem = _rebuild(fenced[PAYLOAD_INFO])
        entry = Entry(int(n), approver, decision, sha, at.strip(), payload, fields,
                      armored, problem)
        if fields is not None:
            entry = _cross_check(entry, title.group(1), {
                "approver": approver, "decision": decision, "head_sha": sha,
                "at": at.strip()}, shown=_ts)
        entries.append(entry)
    return RecordSignatures(title.group(1), base.group(1) if base else "", entries)


def _fenced(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.groups()
        body = []
        i += 1
        while i < len(lines) and not (lines[i].startswith(fence)
                                      and set(lines[i].strip()) == {"`"}):
            body.append(lines[i])
            i += 1
        out.setdefault(info, "\n".join(body) + ("\n" if info == SIGNATURE_INFO else ""))
        i += 1
    return out


def _cross_check(entry: Entry, hotfix: str, stated: dict[str, Any], shown) -> Entry:
    """The record around a signature must say what the signature covers (`shown`: how
    the record spells a time)."""
    fields = entry.fields or {}
    wrong = []
    if fields.get("hotfix") != hotfix:
        wrong.append(f"it signs {fields.get('hotfix')}, the record is {hotfix}")
    for name, value in stated.items():
        signed = fields.get(name)
        if name == "at" and signed is not None:
            signed = shown(signed)
        if signed != value:
            wrong.append(f"the record says {name} {str(value)[:40]!r}, the signature "
                         f"covers {str(signed)[:40]!r}")
    if not wrong:
        return entry
    return Entry(entry.n, entry.approver, entry.decision, entry.sha, entry.at,
                 entry.payload, entry.fields, entry.armored, "; ".join(wrong))
