"""The shared history in git: one ref of plain commits, `refs/hotfix/history`, whose tree
holds one folder per site (docs/SYNC.md):

    sites/<site>/head.json                 the site's chain head, slot and database id
    sites/<site>/events/<first seq>.jsonl  a batch of its events, with the rows they touched

Only a site writes its own folder and a batch file is never changed once written, so two
histories merge by the union of their files: a merge commit, built here with plumbing
(no work tree, no checkout). The hotfix commits a site's records name travel as
`refs/hotfix/heads/<KEY>`. Every call is an argv list; names are checked first.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import GitError, ValidationError
from ..gitaccess import git_env, trust_args

REF = "refs/hotfix/history"
HEADS = "refs/hotfix/heads/"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_IDENTITY = {"GIT_AUTHOR_NAME": "hotfix sync", "GIT_AUTHOR_EMAIL": "hotfix-sync@invalid",
             "GIT_COMMITTER_NAME": "hotfix sync", "GIT_COMMITTER_EMAIL": "hotfix-sync@invalid"}


def check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name \
            or name.endswith((".", ".lock")):
        raise ValidationError(f"invalid {what} {name!r}: use letters, digits, '.', '_', '-' "
                              "(at most 40, starting with a letter or digit)")
    return name


def tracking(remote: str) -> str:
    return f"refs/hotfix/remotes/{remote}/history"


def _git(cwd: Path, *args: str, data: str | None = None, check: bool = True,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    argv = ["git", *trust_args(cwd), *args]
    try:
        proc = subprocess.run(argv, cwd=cwd, env=git_env(env), input=data, text=True,
                              capture_output=True, timeout=600)
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"git {args[0]} took longer than 10 minutes") from exc
    if check and proc.returncode != 0:
        raise GitError(f"git {args[0]} failed: {first_line(proc.stderr, proc.returncode)}")
    return proc


def first_line(err: str, code: int) -> str:
    line = next((ln.strip() for ln in err.splitlines() if ln.strip()), f"exit {code}")
    return line.removeprefix("fatal: ").removeprefix("error: ")


def check_remote(cwd: Path, remote: str) -> str:
    """The remote's URL; an unknown remote is refused with the ones there are."""
    check_name(remote, "remote")
    proc = _git(cwd, "remote", "get-url", "--", remote, check=False)
    if proc.returncode != 0:
        known = _git(cwd, "remote", check=False).stdout.split()
        raise ValidationError(f"unknown remote {remote!r} (remotes here: "
                              f"{', '.join(known) or 'none'}; set [sync] remote or give "
                              "--remote)")
    return proc.stdout.strip()


def rev(cwd: Path, ref: str) -> str | None:
    proc = _git(cwd, "rev-parse", "--verify", "--quiet", "--end-of-options",
                f"{ref}^{{commit}}", check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def fetch(cwd: Path, remote: str) -> str | None:
    """Fetch the history (into its tracking ref) and the hotfix heads; the remote's
    history commit, or None while the remote has none."""
    specs = [f"+{REF}:{tracking(remote)}", f"+{HEADS}*:{HEADS}*"]
    proc = _git(cwd, "fetch", "--no-tags", "--quiet", "--no-write-fetch-head", "--",
                remote, *specs, check=False)
    if proc.returncode != 0:
        if "couldn't find remote ref" in proc.stderr:
            _git(cwd, "update-ref", "-d", tracking(remote), check=False)
            _git(cwd, "fetch", "--no-tags", "--quiet", "--no-write-fetch-head", "--", remote,
                 specs[1], check=False)
            return None
        raise GitError(f"cannot fetch from {remote}: "
                       f"{first_line(proc.stderr, proc.returncode)}")
    return rev(cwd, tracking(remote))


def entries(cwd: Path, commit: str | None) -> dict[str, str]:
    """path → blob id of every file in the commit's tree."""
    if commit is None:
        return {}
    out: dict[str, str] = {}
    for line in _git(cwd, "ls-tree", "-r", "--full-tree", "--end-of-options",
                     commit).stdout.splitlines():
        meta, _, path = line.partition("\t")
        parts = meta.split()
        if len(parts) != 3 or parts[1] != "blob":
            raise ValidationError(f"bad content in {REF}: {path!r} is not a file")
        out[path] = parts[2]
    return out


def read_blobs(cwd: Path, blobs: list[str]) -> dict[str, bytes]:
    """The blobs' bytes, in one `git cat-file --batch`."""
    if not blobs:
        return {}
    argv = ["git", *trust_args(cwd), "cat-file", "--batch"]
    proc = subprocess.run(argv, cwd=cwd, env=git_env(), capture_output=True, timeout=600,
                          input="".join(f"{b}\n" for b in blobs).encode())
    if proc.returncode != 0:
        raise GitError(f"git cat-file failed: {first_line(proc.stderr.decode(), 1)}")
    out: dict[str, bytes] = {}
    data, pos = proc.stdout, 0
    for blob in blobs:
        end = data.index(b"\n", pos)
        header = data[pos:end].decode().split()
        if len(header) != 3:
            raise GitError(f"git cat-file: {blob} is missing")
        size = int(header[2])
        out[blob] = data[end + 1:end + 1 + size]
        pos = end + 1 + size + 1
    return out


def write_blob(cwd: Path, text: str) -> str:
    return _git(cwd, "hash-object", "-w", "--stdin", data=text).stdout.strip()


def commit(cwd: Path, files: dict[str, str], parents: list[str], message: str) -> str:
    """A commit whose tree is exactly `files` (path → blob), built in a private index."""
    gitdir = Path(_git(cwd, "rev-parse", "--absolute-git-dir").stdout.strip())
    index = gitdir / f"hotfix-sync-{os.getpid()}.index"
    env = {"GIT_INDEX_FILE": str(index), **_IDENTITY}
    try:
        _git(cwd, "read-tree", "--empty", env=env)
        listing = "".join(f"100644 {blob}\t{path}\n" for path, blob in sorted(files.items()))
        _git(cwd, "update-index", "--index-info", data=listing, env=env)
        tree = _git(cwd, "write-tree", env=env).stdout.strip()
    finally:
        index.unlink(missing_ok=True)
    args = ["commit-tree", tree, "-m", message]
    for p in parents:
        args += ["-p", p]
    return _git(cwd, *args, env=_IDENTITY).stdout.strip()


def is_ancestor(cwd: Path, a: str, b: str) -> bool:
    return _git(cwd, "merge-base", "--is-ancestor", a, b, check=False).returncode == 0


def update_ref(cwd: Path, ref: str, new: str, old: str | None = None) -> None:
    _git(cwd, "update-ref", "-m", "hotfix sync", ref, new, *([old] if old else []))


def set_head(cwd: Path, key: str, sha: str) -> None:
    if _SHA.match(sha):
        _git(cwd, "update-ref", f"{HEADS}{key}", sha)


def branch_follow(cwd: Path, branch: str, sha: str) -> bool:
    """Point a local branch at a hotfix head fetched from another site: create it, or
    move it forward; never move a branch that went its own way."""
    if not _SHA.match(sha) or _git(cwd, "cat-file", "-e", f"{sha}^{{commit}}",
                                    check=False).returncode:
        return False
    ref = f"refs/heads/{branch}"
    if _git(cwd, "check-ref-format", ref, check=False).returncode:
        return False
    now = rev(cwd, ref)
    if now == sha:
        return True
    if now is not None and not is_ancestor(cwd, now, sha):
        return False
    _git(cwd, "update-ref", "-m", "hotfix sync", ref, sha)
    return True


@dataclass(frozen=True)
class Merged:
    """The shared history after a merge, and the paths both sides changed."""

    commit: str | None
    files: dict[str, str]
    clashes: tuple[str, ...]  # paths both sides hold with different content (ours kept)


def merge(cwd: Path, ours: str | None, theirs: str | None) -> Merged:
    """The union of both histories' files: a fast-forward where one contains the other,
    else a merge commit. A head file is the one further along; any other file both hold
    differently keeps our copy (the first one read) and is reported."""
    fast = _fast_forward(cwd, ours, theirs)
    if fast is not None:
        return Merged(fast[0], entries(cwd, fast[0]), ())
    assert ours is not None and theirs is not None
    mine, other = entries(cwd, ours), entries(cwd, theirs)
    files = {**other, **mine}
    differ = [p for p, b in other.items() if p in mine and mine[p] != b]
    texts = read_blobs(cwd, [other[p] for p in differ] + [mine[p] for p in differ])
    heads = [p for p in differ if p.endswith("/head.json")]
    clashes = [p for p in differ if p not in heads]
    for path in heads:
        if _seq(texts[other[path]]) > _seq(texts[mine[path]]):
            files[path] = other[path]
    merged = commit(cwd, files, [ours, theirs], "hotfix sync: merge")
    return Merged(merged, files, tuple(clashes))


def _fast_forward(cwd: Path, ours: str | None, theirs: str | None
                  ) -> tuple[str | None] | None:
    """(the result,) when one history contains the other; None when they must merge."""
    if theirs is None or ours == theirs or (ours and is_ancestor(cwd, theirs, ours)):
        return (ours,)
    if ours is None or is_ancestor(cwd, ours, theirs):
        return (theirs,)
    return None


def _seq(data: bytes) -> int:
    try:
        value = json.loads(data).get("seq", 0)
    except (ValueError, AttributeError):
        return -1
    return value if isinstance(value, int) else -1


def push(cwd: Path, remote: str, heads: list[str]) -> str:
    """'ok', or 'rejected' when the remote moved on (fetch, merge and try again)."""
    specs = [f"{REF}:{REF}"] + [f"+{HEADS}{k}:{HEADS}{k}" for k in heads]
    proc = _git(cwd, "push", "--porcelain", "--quiet", "--", remote, *specs, check=False)
    if proc.returncode == 0:
        return "ok"
    text = proc.stdout + proc.stderr
    if any(w in text for w in ("non-fast-forward", "fetch first", "[rejected]",
                               "stale info", "cannot lock ref")):
        return "rejected"
    raise GitError(f"cannot push to {remote}: {first_line(proc.stderr, proc.returncode)}")
