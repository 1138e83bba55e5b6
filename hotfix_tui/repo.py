"""Finding the repository in use without starting git.

`hotfix list --json` must stay fast, so discovery reads the `.git` layout
directly; everything that changes the repository goes through gitops.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .core.errors import GitError


@dataclass(frozen=True)
class RepoPaths:
    """Where a repository's parts are: its main working tree, git dirs, database."""

    toplevel: Path  # the main working tree (where .hotfix.toml lives)
    common_dir: Path  # shared by every worktree: refs, objects, our database
    git_dir: Path  # this worktree's own git dir
    worktree: Path  # the working tree the path was in (maybe a linked one)


def _is_git_dir(p: Path) -> bool:
    return (p / "HEAD").is_file() and (p / "objects").is_dir() and (p / "refs").is_dir()


def _read_gitfile(p: Path) -> Path:
    text = p.read_text(encoding="utf-8", errors="replace").strip()
    if not text.startswith("gitdir:"):
        raise GitError(f"{p} is not a valid .git file")
    target = Path(text.split(":", 1)[1].strip())
    return target if target.is_absolute() else (p.parent / target).resolve()


def find_repo(start: str | os.PathLike | None = None) -> RepoPaths:
    """The repository containing `start` (default: the current directory)."""
    here = Path(start or os.getcwd()).expanduser()
    if not here.exists():
        raise GitError(f"no such directory: {here}")
    here = here.resolve()
    if here.is_file():
        here = here.parent
    for candidate in (here, *here.parents):
        dotgit = candidate / ".git"
        if dotgit.is_dir() and _is_git_dir(dotgit):
            git_dir = dotgit
        elif dotgit.is_file():
            git_dir = _read_gitfile(dotgit)
        elif _is_git_dir(candidate) and candidate.name != ".git":
            raise GitError(f"{candidate} is a bare repository; hotfix needs a working tree")
        else:
            continue
        common = git_dir
        commondir_file = git_dir / "commondir"
        if commondir_file.is_file():
            rel = commondir_file.read_text(encoding="utf-8").strip()
            common = (git_dir / rel).resolve()
        toplevel = common.parent if common.name == ".git" else candidate
        return RepoPaths(toplevel=toplevel, common_dir=common, git_dir=git_dir,
                         worktree=candidate)
    raise GitError(f"not a git repository (or any parent up to /): {here}")
