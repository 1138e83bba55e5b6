"""`hotfix verify-record FILE`: the signatures of an exported record, checked with no
database: against an allowed-signers file the reviewer trusts, or against the one in
a clone of the repository at each approved commit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import load_config
from ..core.errors import GitError, HotfixError, ValidationError
from ..core.record_signatures import RecordError, read_record
from ..core.signature import SignatureCheck, principal_problem
from ..repo import find_repo
from .signatures import TrustList, fingerprint_of, judge, repository_id, trust_for


@dataclass(frozen=True)
class RecordCheck:
    """One signed decision of an exported record, checked."""

    n: int
    approver: str
    decision: str
    sha: str
    check: SignatureCheck

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "approver": self.approver, "decision": self.decision,
                "sha": self.sha, "signature": self.check.to_json()}


@dataclass(frozen=True)
class RecordReport:
    """Every signed decision of an exported record, checked."""

    path: str
    hotfix: str
    against: str  # the allowed signers used
    checks: list[RecordCheck]
    require_signed: bool

    @property
    def bad(self) -> list[RecordCheck]:
        return [c for c in self.checks if (c.check.signed and not c.check.valid)
                or (self.require_signed and not c.check.signed)]

    @property
    def ok(self) -> bool:
        return not self.bad

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "file": self.path, "hotfix": self.hotfix,
                "allowed_signers": self.against,
                "signed": sum(c.check.signed for c in self.checks),
                "valid": sum(c.check.valid for c in self.checks),
                "unsigned": sum(not c.check.signed for c in self.checks),
                "decisions": [c.to_json() for c in self.checks]}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ValidationError(f"no such file: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}"
                              ) from exc


def verify_record(path: str | Path, allowed_signers: str | Path | None = None,
                  repo: str | Path | None = None, require_signed: bool = False
                  ) -> RecordReport:
    """Check every signature in the record at `path`. `allowed_signers`: the file to
    trust; without it, the repository at `repo` (or here) at each approved commit."""
    path = Path(path)
    try:
        record = read_record(_read(path))
    except RecordError as exc:
        raise ValidationError(f"{path}: {exc}") from exc
    fixed: TrustList | None = None
    cwd: Path | None = None
    signers_path = ""
    if allowed_signers is not None:
        fixed = TrustList(_read(Path(allowed_signers)), str(allowed_signers))
        against = str(allowed_signers)
    else:
        try:
            paths = find_repo(repo)
        except GitError as exc:
            raise HotfixError(f"{exc}; give --allowed-signers FILE, or run inside a clone "
                              "of the repository") from exc
        cwd = paths.toplevel
        signers_path = load_config(cwd).approvals.allowed_signers
        against = f"{signers_path} in {cwd} at each approved commit"
    checks = []
    for e in record.entries:
        if not e.armored:
            check = SignatureCheck(False, None, None, False, "unsigned")
        elif e.payload is None or e.problem:
            check = SignatureCheck(True, e.approver, fingerprint_of(e.armored), False,
                                   e.problem or "no payload")
        else:
            trust = fixed
            if trust is None:
                trust = _repo_trust(cwd, signers_path, e.fields, record.base_sha)
            wrong = trust if isinstance(trust, str) else principal_problem(e.fields)
            check = (SignatureCheck(True, e.fields["principal"], fingerprint_of(e.armored),
                                    False, wrong) if wrong else
                     judge(e.payload, e.armored, e.fields["principal"], e.fields["at"], trust))
        checks.append(RecordCheck(e.n, e.approver, e.decision, e.sha, check))
    return RecordReport(str(path), record.hotfix, against, checks, require_signed)


def _repo_trust(cwd: Path, signers_path: str, fields: dict[str, str], base: str
                ) -> TrustList | str:
    """The allowed signers in this clone at the approved commit, or why they cannot be
    used (another repository)."""
    try:
        here = repository_id(cwd, base or fields["head_sha"])
    except GitError:
        here = ""
    if here and fields["repository"] != here:
        return (f"signed in another repository (root commit {fields['repository'][:12]}, "
                f"this clone {here[:12]})")
    return trust_for(cwd, signers_path, fields["head_sha"], base)

