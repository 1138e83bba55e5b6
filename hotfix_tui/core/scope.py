"""Scope evaluation: a diff summary and the policy → violations and automatic checklist items.

Pure: the diff comes in as plain values from gitops.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pathspec

from .models import ChecklistItem


@dataclass(frozen=True)
class FileChange:
    """One file a hotfix changes, and by how many lines."""

    path: str
    insertions: int
    deletions: int
    binary: bool = False
    status: str = "M"  # A, M, D, R, C, T
    old_path: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Violation:
    """One scope rule a hotfix breaks, and how."""

    rule: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule, "detail": self.detail}


@dataclass(frozen=True)
class ScopeReport:
    """A hotfix's changes measured against `[scope]`."""

    files: tuple[FileChange, ...]
    violations: tuple[Violation, ...]
    max_files: int
    max_lines: int
    commits: int = 0
    checks: tuple[tuple[str, str, bool, str], ...] = field(default=())

    @property
    def files_changed(self) -> int:
        return len(self.files)

    @property
    def insertions(self) -> int:
        return sum(f.insertions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)

    @property
    def lines(self) -> int:
        return self.insertions + self.deletions

    def to_json(self) -> dict[str, Any]:
        return {
            "files_changed": self.files_changed,
            "insertions": self.insertions,
            "deletions": self.deletions,
            "commits": self.commits,
            "max_files": self.max_files,
            "max_lines": self.max_lines,
            "files": [f.to_json() for f in self.files],
            "violations": [v.to_json() for v in self.violations],
        }


def _spec(patterns) -> pathspec.GitIgnoreSpec | None:
    patterns = [p for p in patterns if p.strip()]
    if not patterns:
        return None
    import pathspec  # only when a budget has paths: reads of the CLI never need it

    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _matches(spec: pathspec.GitIgnoreSpec | None, path: str) -> bool:
    return bool(spec) and spec.match_file(path)


def _file_violations(f: FileChange, forbidden, allowed, deps, migrations) -> list[Violation]:
    """What one changed file breaks (both its paths, for a rename)."""
    out = []
    paths = [f.path] + ([f.old_path] if f.old_path else [])
    if any(_matches(forbidden, p) for p in paths):
        out.append(Violation("forbidden", f"{f.path} matches a forbidden path"))
    if allowed is not None and not all(_matches(allowed, p) for p in paths):
        out.append(Violation("outside_allowed", f"{f.path} is outside the allowed paths"))
    if any(_matches(deps, p) or _matches(deps, p.rsplit("/", 1)[-1]) for p in paths):
        out.append(Violation("dependency", f"{f.path} is a dependency manifest or lock"))
    if f.status == "A" and _matches(migrations, f.path):
        out.append(Violation("migration", f"{f.path} adds a migration"))
    return out


def evaluate(files: list[FileChange], policy, commits: int = 0) -> ScopeReport:
    """`policy` is a config ScopeSection (max_files, max_lines, forbidden, allowed,
    dependency_files, migration_paths)."""
    forbidden = _spec(policy.forbidden)
    allowed = _spec(policy.allowed)
    deps = _spec(policy.dependency_files)
    migrations = _spec(policy.migration_paths)
    violations: list[Violation] = []
    total_lines = sum(f.insertions + f.deletions for f in files)
    if len(files) > policy.max_files:
        violations.append(Violation(
            "max_files", f"{len(files)} files changed; the budget is {policy.max_files}"))
    if total_lines > policy.max_lines:
        violations.append(Violation(
            "max_lines", f"{total_lines} lines changed; the budget is {policy.max_lines}"))
    for f in files:
        violations += _file_violations(f, forbidden, allowed, deps, migrations)
    if commits == 0:
        violations.append(Violation("no_commits", "no commit beyond the base"))
    return ScopeReport(tuple(files), tuple(violations), policy.max_files, policy.max_lines,
                       commits)


AUTOMATIC = (
    ("max_files", "Files changed within budget"),
    ("max_lines", "Lines changed within budget"),
    ("forbidden", "No forbidden paths touched"),
    ("outside_allowed", "Only allowed paths touched"),
    ("dependency", "No dependency manifest or lock file changed"),
    ("migration", "No migration added"),
)


def automatic_items(report: ScopeReport, first_n: int, policy) -> list[ChecklistItem]:
    """Checklist items computed from the diff: pass or fail with the numbers behind them."""
    items = []
    n = first_n
    by_rule: dict[str, list[Violation]] = {}
    for v in report.violations:
        by_rule.setdefault(v.rule, []).append(v)
    for rule, text in AUTOMATIC:
        if rule == "outside_allowed" and not [p for p in policy.allowed if p.strip()]:
            continue
        found = by_rule.get(rule, [])
        if rule == "max_files":
            detail = f"{report.files_changed} of {report.max_files} files"
        elif rule == "max_lines":
            detail = (f"{report.lines} of {report.max_lines} lines "
                      f"(+{report.insertions} -{report.deletions})")
        elif found:
            detail = "; ".join(v.detail for v in found[:3]) + (
                f" (+{len(found) - 3} more)" if len(found) > 3 else "")
        else:
            detail = "none"
        items.append(ChecklistItem(n=n, text=text, automatic=True, checked=not found,
                                   passed=not found, detail=detail))
        n += 1
    return items
