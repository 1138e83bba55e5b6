"""Everything hotfix-tui does to git, through GitPython, with argument lists.

No shell, and no user string that git could read as an option: refs are
checked first (core.refs), resolved to full commit ids, and passed after
`--end-of-options` where git supports it. Repo objects are used briefly.
"""

from __future__ import annotations

import time
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
    commit_identity,
    execute,
    git_env,
    identity_env,
    observe,
    ownership_message,
    subcommand,
    take_notices,
    tell_observers,
    trust_args,
    trust_command,
    use_email_domain,
)


@dataclass(frozen=True)
class GitResult:
    status: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.status == 0


def run_git(cwd: str | Path, *args: str, check: bool = True, strip: bool = True,
            env: dict[str, str] | None = None) -> GitResult:
    """Run `git args…` in `cwd` through GitPython; raise GitError on failure if check.

    git's refusal of a repository owned by another account is always raised, as what
    it is: callers that tolerate a failure (check=False) would otherwise report it as
    "unknown ref" or "nothing recorded".
    """
    full_env = git_env(env)
    sub, _ = subcommand(args)
    if sub in COMMITTING or (sub == "tag" and "-a" in args):
        full_env.update(identity_env(cwd, full_env))
    argv = ["git", *trust_args(cwd), *args]
    started = time.monotonic()
    status, out, err = execute(cwd, argv, full_env, strip)
    record = CommandRecord(tuple(argv), str(cwd), status, time.monotonic() - started)
    tell_observers(record)
    if status != 0 and DUBIOUS in err:
        raise GitError(ownership_message(err, cwd))
    if check and status != 0:
        first = next((ln for ln in err.splitlines() if ln.strip()), f"exit {status}")
        first = first.removeprefix("fatal: ").removeprefix("error: ")
        raise GitError(f"git {args[0]} failed: {first}")
    return GitResult(status, out, err)


def probe(cwd: str | Path) -> str:
    """"" when git works in `cwd` for this account; otherwise why, said plainly."""
    try:
        run_git(cwd, "rev-parse", "--git-dir")
    except GitError as exc:
        return str(exc)
    return ""


def check_repository(path: str | Path) -> Path:
    """The working tree top of `path`; refuses a bare repository or a non-repository."""
    import git

    try:
        repo = git.Repo(str(path), search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise GitError(f"not a git repository: {path}") from exc
    try:
        if repo.bare:
            raise GitError(f"{path} is a bare repository; hotfix needs a working tree")
        return Path(repo.working_tree_dir)
    finally:
        repo.close()


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


def ref_exists(cwd: str | Path, full_ref: str) -> bool:
    return run_git(cwd, "show-ref", "--verify", "--quiet", full_ref, check=False).ok


def branch_tip(cwd: str | Path, branch: str) -> str | None:
    res = run_git(cwd, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}",
                  check=False)
    return res.out.strip() if res.ok and res.out.strip() else None


def tree_of(cwd: str | Path, sha: str) -> str:
    return run_git(cwd, "rev-parse", "--verify", f"{sha}^{{tree}}").out.strip()


def version_tags(cwd: str | Path, tag_format: str) -> list[tuple[tuple[int, int, int], str, str]]:
    """(version, tag, commit) for every tag that matches tag_format, highest first."""
    res = run_git(cwd, "for-each-ref", "--format=%(refname:strip=2)%00%(*objectname)"
                  "%00%(objectname)", "refs/tags")
    out = []
    for line in res.out.splitlines():
        name, peeled, obj = (line.split("\0") + ["", ""])[:3]
        v = version_from_tag(name, tag_format)
        if v is not None:
            out.append((v, name, peeled or obj))
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
