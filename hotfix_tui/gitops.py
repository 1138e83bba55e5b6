"""Everything hotfix-tui does to git, through GitPython, with argument lists.

No shell, and no user string that git could read as an option: refs are
checked first (core.refs), resolved to full commit ids, and passed after
`--end-of-options` where git supports it. Repo objects are used briefly.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .core.errors import GitError
from .core.refs import check_ref, check_revision, version_from_tag
from .core.scope import FileChange


@dataclass(frozen=True)
class CommandRecord:
    argv: tuple[str, ...]
    cwd: str
    status: int
    seconds: float


# Observers see every git command run by this process (the console's command log).
OBSERVERS: list[Callable[[CommandRecord], None]] = []


@dataclass(frozen=True)
class GitResult:
    status: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.status == 0


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_EDITOR"] = "true"
    env["GIT_SEQUENCE_EDITOR"] = "true"
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    env.pop("GIT_INDEX_FILE", None)
    return env


def run_git(cwd: str | Path, *args: str, check: bool = True, strip: bool = True,
            env: dict[str, str] | None = None) -> GitResult:
    """Run `git args…` in `cwd` through GitPython; raise GitError on failure if check."""
    import git  # GitPython is slow to import; the fast read paths never need it

    argv = ["git", *args]
    started = time.monotonic()
    try:
        status, out, err = git.Git(str(cwd)).execute(
            argv, with_extended_output=True, with_exceptions=False, env=_env(env),
            strip_newline_in_stdout=strip,
        )
    except git.GitCommandNotFound as exc:
        raise GitError("git is not installed or not on PATH") from exc
    record = CommandRecord(tuple(argv), str(cwd), int(status), time.monotonic() - started)
    for observer in list(OBSERVERS):
        observer(record)
    out = out if isinstance(out, str) else out.decode("utf-8", "replace")
    err = err if isinstance(err, str) else err.decode("utf-8", "replace")
    if check and status != 0:
        first = next((ln for ln in err.splitlines() if ln.strip()), f"exit {status}")
        first = first.removeprefix("fatal: ").removeprefix("error: ")
        raise GitError(f"git {args[0]} failed: {first}")
    return GitResult(int(status), out, err)


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
    path.parent.mkdir(parents=True, exist_ok=True)
    run_git(cwd, "worktree", "add", "--quiet", "-b", branch, str(path.absolute()), start)


def add_detached_worktree(cwd: str | Path, path: Path, sha: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
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


# ---- cherry-pick ----------------------------------------------------------------

def parents(cwd: str | Path, sha: str) -> list[str]:
    out = run_git(cwd, "rev-list", "--parents", "-n", "1", sha).out.split()
    return out[1:]


def in_progress_pick(wt: str | Path) -> bool:
    return run_git(wt, "rev-parse", "--verify", "--quiet", "CHERRY_PICK_HEAD", check=False).ok


def conflicted_files(wt: str | Path) -> list[str]:
    res = run_git(wt, "diff", "--name-only", "--diff-filter=U", "-z", strip=False, check=False)
    return sorted({p for p in res.out.split("\0") if p})


@dataclass(frozen=True)
class PickResult:
    ok: bool
    head: str
    conflicts: tuple[str, ...] = ()
    message: str = ""


def cherry_pick(wt: str | Path, shas: list[str], mainline: int | None = None,
                keep_conflict: bool = False) -> PickResult:
    """`cherry-pick -x` the commits, in order. On conflict, abort back to exactly the
    state before (HEAD, index, files) unless keep_conflict."""
    before = worktree_head(wt)
    args = ["cherry-pick", "-x", "--allow-empty"]
    if mainline is not None:
        args += ["-m", str(int(mainline))]
    res = run_git(wt, *args, *shas, check=False)
    if res.ok:
        return PickResult(True, worktree_head(wt))
    conflicts = tuple(conflicted_files(wt))
    message = next((ln for ln in (res.err + "\n" + res.out).splitlines() if ln.strip()),
                   f"exit {res.status}")
    if keep_conflict and in_progress_pick(wt):
        return PickResult(False, worktree_head(wt), conflicts, message)
    if in_progress_pick(wt) or run_git(wt, "rev-parse", "--verify", "--quiet",
                                        "REVERT_HEAD", check=False).ok:
        run_git(wt, "cherry-pick", "--abort", check=False)
    if worktree_head(wt) != before:
        run_git(wt, "reset", "--hard", "--quiet", before)
    if dirty_files(wt):
        run_git(wt, "reset", "--hard", "--quiet", before)
        run_git(wt, "clean", "-fdq")
    return PickResult(False, worktree_head(wt), conflicts, message)


def pick_continue(wt: str | Path) -> PickResult:
    if not in_progress_pick(wt):
        raise GitError("no cherry-pick in progress")
    left = conflicted_files(wt)
    if left:
        raise GitError("unresolved conflicts remain: " + ", ".join(left))
    res = run_git(wt, "-c", "core.editor=true", "cherry-pick", "--continue", check=False)
    if not res.ok:
        conflicts = tuple(conflicted_files(wt))
        msg = next((ln for ln in res.err.splitlines() if ln.strip()), f"exit {res.status}")
        return PickResult(False, worktree_head(wt), conflicts, msg)
    return PickResult(True, worktree_head(wt))


def pick_abort(wt: str | Path) -> str:
    if not in_progress_pick(wt):
        raise GitError("no cherry-pick in progress")
    run_git(wt, "cherry-pick", "--abort")
    return worktree_head(wt)


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


def file_at(cwd: str | Path, sha: str, path: str) -> bytes | None:
    res = run_git(cwd, "cat-file", "blob", f"{sha}:{path}", check=False, strip=False)
    return res.out.encode("utf-8", "surrogateescape") if res.ok else None
