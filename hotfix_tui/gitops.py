"""Everything hotfix-tui does to git: one git process per call, with argument lists.

No shell, and no user string that git could read as an option: refs are
checked first (core.refs), resolved to full commit ids, and passed after
`--end-of-options` where git supports it. Repo objects are used briefly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import sharing
from .core.errors import GitError
from .core.refs import check_ref, check_revision, version_from_tag
from .core.scope import FileChange
from .gitaccess import (  # noqa: F401  (commit_identity … are part of gitops' API)
    COMMITTING,
    DUBIOUS,
    CommandRecord,
    GitResult,
    commit_identity,
    execute,
    git_env,
    identity_env,
    observe,
    ownership_message,
    run_git,
    subcommand,
    take_notices,
    tell_observers,
    trust_args,
    trust_command,
    use_email_domain,
)


def probe(cwd: str | Path) -> str:
    """"" when git works in `cwd` for this account; otherwise why, said plainly."""
    try:
        run_git(cwd, "rev-parse", "--git-dir")
    except GitError as exc:
        return str(exc)
    return ""


# ---- refs ----------------------------------------------------------------------

def resolve_commit(cwd: str | Path, ref: str, what: str = "ref") -> str:
    """The full commit id `ref` names (`main~3` allowed); refuses option-like input,
    ranges and reflog syntax."""
    check_revision(ref, what)
    res = run_git(cwd, "rev-parse", "--verify", "--quiet", "--end-of-options",
                  f"{ref}^{{commit}}", check=False)
    if not res.ok or not res.out.strip():
        raise GitError(f"unknown {what} {ref!r}: no such tag, branch or commit")
    return res.out.strip()


def commits_with_parents(cwd: str | Path, revs: list[str]
                         ) -> dict[str, tuple[str, list[str]]] | None:
    """For each revision (`main~3` allowed, checked as resolve_commit checks it): its
    commit and that commit's parents, in one git command; None if any is unknown (then
    resolve_commit says which)."""
    for rev in revs:
        check_revision(rev, "commit")
    res = run_git(cwd, "rev-list", "--no-walk=unsorted", "--parents", "--end-of-options",
                  *(f"{r}^{{commit}}" for r in revs), check=False)
    lines = [ln.split() for ln in res.out.splitlines() if ln.strip()]
    if not res.ok or len(lines) != len(revs):  # unknown, or the same commit twice
        return None
    return {rev: (line[0], line[1:]) for rev, line in zip(revs, lines, strict=True)}


def ref_exists(cwd: str | Path, full_ref: str) -> bool:
    return run_git(cwd, "show-ref", "--verify", "--quiet", full_ref, check=False).ok


def branch_tip(cwd: str | Path, branch: str) -> str | None:
    res = run_git(cwd, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}",
                  check=False)
    return res.out.strip() if res.ok and res.out.strip() else None


def tree_of(cwd: str | Path, sha: str) -> str:
    return run_git(cwd, "rev-parse", "--verify", f"{sha}^{{tree}}").out.strip()


def refs(cwd: str | Path) -> dict[str, str]:
    """Every tag and branch, by full name (`refs/tags/v1.2.0`), with the commit it names
    (an annotated tag peeled): one git command for everything `start` asks of them."""
    res = run_git(cwd, "for-each-ref", "--format=%(refname)%00%(*objectname)%00%(objectname)",
                  "refs/tags", "refs/heads")
    out = {}
    for line in res.out.splitlines():
        name, peeled, obj = (line.split("\0") + ["", ""])[:3]
        out[name] = peeled or obj
    return out


def version_tags(cwd: str | Path, tag_format: str, known: dict[str, str] | None = None
                 ) -> list[tuple[tuple[int, int, int], str, str]]:
    """(version, tag, commit) for every tag that matches tag_format, highest first;
    from `known` (what refs() answered) when given."""
    known = refs(cwd) if known is None else known
    out = []
    for full, sha in known.items():
        if not full.startswith("refs/tags/"):
            continue
        name = full.removeprefix("refs/tags/")
        v = version_from_tag(name, tag_format)
        if v is not None:
            out.append((v, name, sha))
    out.sort(reverse=True)
    return out


def tags_at(cwd: str | Path, sha: str) -> list[str]:
    res = run_git(cwd, "tag", "--points-at", sha, check=False)
    return [t for t in res.out.splitlines() if t]


def nearest_tag(cwd: str | Path, sha: str) -> str | None:
    res = run_git(cwd, "describe", "--tags", "--abbrev=0", sha, check=False)
    return res.out.strip() if res.ok and res.out.strip() else None


def default_branch(cwd: str | Path, configured: str = "") -> str:
    if configured:
        return configured
    for candidate in ("main", "master", "trunk", "develop"):
        if ref_exists(cwd, f"refs/heads/{candidate}"):
            return candidate
    res = run_git(cwd, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    return res.out.strip() or "main"


# ---- worktrees -----------------------------------------------------------------

def add_worktree(cwd: str | Path, path: Path, branch: str, start: str) -> None:
    """Create `branch` at commit `start` and check it out in a new worktree at `path`."""
    check_ref(branch, "branch")
    if path.exists() and any(path.iterdir()):
        raise GitError(f"worktree path already exists and is not empty: {path}")
    sharing.make_dirs(path.parent)
    run_git(cwd, "worktree", "add", "--quiet", "-b", branch, str(path.absolute()), start)


def add_detached_worktree(cwd: str | Path, path: Path, sha: str) -> None:
    sharing.make_dirs(path.parent)
    run_git(cwd, "worktree", "add", "--quiet", "--detach", str(path.absolute()), sha)


def remove_worktree(cwd: str | Path, path: Path) -> None:
    if path.exists():
        run_git(cwd, "worktree", "remove", "--force", str(path.absolute()), check=False)
    run_git(cwd, "worktree", "prune", check=False)


def delete_branch(cwd: str | Path, branch: str) -> None:
    run_git(cwd, "branch", "-D", "--", branch, check=False)


def worktree_head(wt: str | Path) -> str:
    return run_git(wt, "rev-parse", "--verify", "HEAD").out.strip()


def worktree_state(wt: str | Path) -> tuple[str, list[str]]:
    """HEAD of the worktree and its changed or untracked paths, from one `git status`
    (porcelain v2 says the commit in its branch header)."""
    res = run_git(wt, "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all",
                  strip=False)
    head, paths = "", []
    tokens = iter(res.out.split("\0"))
    for tok in tokens:
        kind = tok[:1]
        if tok.startswith("# branch.oid "):
            head = tok.removeprefix("# branch.oid ")
        elif kind in "?!" and tok:
            paths.append(tok[2:])
        elif kind in ("1", "2", "u"):
            paths.append(tok.split(" ", {"1": 8, "2": 9, "u": 10}[kind])[-1])
            if kind == "2":
                next(tokens, None)  # the path it was renamed or copied from
    if not head or head == "(initial)":
        raise GitError(f"{wt}: no commit checked out")
    return head, paths


def dirty_files(wt: str | Path) -> list[str]:
    res = run_git(wt, "status", "--porcelain=v1", "-z", "--untracked-files=all", strip=False)
    entries = [e for e in res.out.split("\0") if e]
    return [e[3:] for e in entries if len(e) > 3]


# ---- diffs and history ------------------------------------------------------------

def diff_files(cwd: str | Path, base: str, head: str) -> list[FileChange]:
    """Per-file insertions/deletions (binary marked, renames shown) for base..head."""
    res = run_git(cwd, "diff", "--raw", "--numstat", "-z", "-M", "--no-color",
                  "--no-ext-diff", base, head, "--", strip=False)
    tokens = res.out.split("\0")
    status: dict[str, tuple[str, str | None]] = {}
    files: list[FileChange] = []
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        if not tok:
            i += 1
            continue
        if tok.startswith(":"):
            code = tok.split()[-1]
            letter = code[0]
            if letter in "RC":
                old, new = tokens[i + 1], tokens[i + 2]
                status[new] = (letter, old)
                i += 3
            else:
                status[tokens[i + 1]] = (letter, None)
                i += 2
            continue
        parts = tok.split("\t")
        ins, dels = parts[0], parts[1]
        path = parts[2] if len(parts) > 2 else ""
        old = None
        if path == "":
            old, path = tokens[i + 1], tokens[i + 2]
            i += 3
        else:
            i += 1
        binary = ins == "-" and dels == "-"
        letter, old_from_raw = status.get(path, ("M", None))
        files.append(FileChange(
            path=path,
            insertions=0 if binary else int(ins),
            deletions=0 if binary else int(dels),
            binary=binary,
            status=letter,
            old_path=old or old_from_raw,
        ))
    return files


def count_commits(cwd: str | Path, base: str, head: str) -> int:
    return int(run_git(cwd, "rev-list", "--count", f"{base}..{head}").out.strip() or 0)


@dataclass(frozen=True)
class CommitInfo:
    """A commit, as a pick list shows it."""

    sha: str
    subject: str
    author: str
    date: str  # ISO-8601 with offset
    parents: int = 1


def log(cwd: str | Path, rev_range: str, limit: int | None = None,
        first_parent: bool = False) -> list[CommitInfo]:
    args = ["log", "--format=%H%x00%s%x00%an%x00%aI%x00%P%x1e", "--no-color"]
    if limit:
        args.append(f"-n{int(limit)}")
    if first_parent:
        args.append("--first-parent")
    res = run_git(cwd, *args, "--end-of-options", rev_range, "--")
    out = []
    for rec in res.out.split("\x1e"):
        rec = rec.strip("\n")
        if not rec:
            continue
        sha, subject, author, date, parent_list = (rec.split("\0") + [""] * 5)[:5]
        out.append(CommitInfo(sha, subject, author, date, len(parent_list.split())))
    return out


def commit_messages(cwd: str | Path, base: str, head: str) -> str:
    return run_git(cwd, "log", "--format=%B", "--no-color", f"{base}..{head}").out


def diff_text(cwd: str | Path, base: str, head: str, path: str | None = None,
              max_bytes: int = 4 * 1024 * 1024) -> str:
    args = ["diff", "--no-color", "--no-ext-diff", "-M", base, head, "--"]
    if path:
        args.append(path)
    out = run_git(cwd, *args, strip=False).out
    if len(out) > max_bytes:
        out = out[:max_bytes] + "\n[diff truncated]\n"
    return out


def commit_exists(cwd: str | Path, sha: str) -> bool:
    return run_git(cwd, "cat-file", "-e", "--end-of-options", f"{sha}^{{commit}}",
                   check=False).ok


def root_commits(cwd: str | Path, sha: str) -> list[str]:
    """The commits without parents that `sha` descends from, sorted: the same in every
    clone of the repository, so they name it wherever it is."""
    res = run_git(cwd, "rev-list", "--max-parents=0", "--end-of-options", sha)
    return sorted(ln for ln in res.out.split() if ln)


def file_at(cwd: str | Path, sha: str, path: str) -> bytes | None:
    res = run_git(cwd, "cat-file", "blob", f"{sha}:{path}", check=False, strip=False)
    return res.out.encode("utf-8", "surrogateescape") if res.ok else None


# ---- finish: tags, branch updates, push ---------------------------------

def tag_commit(cwd: str | Path, tag: str) -> str | None:
    """The commit `refs/tags/<tag>` points at (peeled), or None if there is no such tag."""
    check_ref(tag, "tag")
    res = run_git(cwd, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}",
                  check=False)
    return res.out.strip() if res.ok and res.out.strip() else None


def tag_object(cwd: str | Path, tag: str) -> str | None:
    """The object `refs/tags/<tag>` itself names (the tag object of an annotated tag)."""
    check_ref(tag, "tag")
    res = run_git(cwd, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}", check=False)
    return res.out.strip() if res.ok and res.out.strip() else None


def create_annotated_tag(cwd: str | Path, tag: str, sha: str, message: str) -> str:
    """Create annotated `tag` at commit `sha`; returns the tag object id."""
    check_ref(tag, "tag")
    run_git(cwd, "tag", "-a", "-m", message, "--end-of-options", tag, sha)
    return tag_object(cwd, tag) or ""


def delete_tag(cwd: str | Path, tag: str, expected_object: str) -> bool:
    """Delete `tag` only while it still names `expected_object`; False if it did not."""
    check_ref(tag, "tag")
    return run_git(cwd, "update-ref", "-d", f"refs/tags/{tag}", expected_object,
                   check=False).ok


def rev_list(cwd: str | Path, base: str, head: str) -> list[str]:
    """Commits in base..head, oldest first."""
    res = run_git(cwd, "rev-list", "--reverse", f"{base}..{head}")
    return [ln for ln in res.out.splitlines() if ln]


def branch_checkouts(cwd: str | Path) -> dict[str, Path]:
    """branch name → the worktree that has it checked out."""
    res = run_git(cwd, "worktree", "list", "--porcelain")
    out: dict[str, Path] = {}
    path: Path | None = None
    for line in res.out.splitlines():
        if line.startswith("worktree "):
            path = Path(line[len("worktree "):])
        elif line.startswith("branch refs/heads/") and path is not None:
            out[line[len("branch refs/heads/"):]] = path
    return out


def tracked_changes(wt: str | Path) -> list[str]:
    """Uncommitted changes to tracked files (untracked files are not counted)."""
    res = run_git(wt, "status", "--porcelain=v1", "-z", "--untracked-files=no", strip=False)
    return [e[3:] for e in res.out.split("\0") if len(e) > 3]


def update_branch(cwd: str | Path, branch: str, new: str, old: str, reason: str) -> bool:
    """Compare-and-swap refs/heads/<branch> from `old` to `new`; False if it moved."""
    check_ref(branch, "branch")
    return run_git(cwd, "update-ref", "-m", reason, f"refs/heads/{branch}", new, old,
                   check=False).ok


def fast_forward(wt: str | Path, sha: str) -> GitResult:
    """Fast-forward the branch checked out in `wt` to `sha` (refuses anything else)."""
    return run_git(wt, "merge", "--ff-only", "--quiet", sha, check=False)


def rewind_checkout(wt: str | Path, sha: str) -> GitResult:
    """Move the branch checked out in clean `wt` back to `sha`, keeping local changes."""
    return run_git(wt, "reset", "--keep", "--quiet", sha, check=False)


def push(cwd: str | Path, remote: str, refspecs: list[str]) -> GitResult:
    """A plain push (never forced: a non-fast-forward is refused), all refs or none."""
    if not remote or remote.startswith("-") or not remote.isprintable():
        raise GitError(f"invalid remote {remote!r}")
    return run_git(cwd, "push", "--atomic", "--porcelain", "--end-of-options", remote,
                   *refspecs, check=False)
