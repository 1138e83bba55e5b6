"""Candidates for shell completion (`hotfix completion SHELL`).

It must feel instant on every Tab: no git, no migration, at most one SQLite read. The
repository is found by reading the .git layout (repo.find_repo) and the database path is
resolved as for every command (--db, $HOTFIX_DB, [store] path, the git common dir).
"""

from __future__ import annotations

import re

from ..config import load_config
from ..core.errors import HotfixError
from ..repo import find_repo
from ..store.keys import key_candidates
from .context import resolve_db_path

PREFIXES = {"incident": "INC", "hotfix": "HF", "run": "D"}
_TYPED = re.compile(r"^([A-Za-z]*)-?(\d*)$")


def _repo(repo: str | None):
    try:
        return find_repo(repo)
    except HotfixError:
        return None


def _config(paths):
    try:
        return load_config(paths.toplevel if paths else None)
    except HotfixError:
        return None


def _db_path(repo: str | None, db: str | None):
    paths = _repo(repo)
    config = _config(paths)
    if config is None:
        return None
    try:
        return resolve_db_path(db, paths, config)[0]
    except HotfixError:
        return None


def keys(kind: str, incomplete: str, repo: str | None = None, db: str | None = None,
         only: str | None = None, limit: int = 50) -> list[tuple[str, str]]:
    """(key, description) for keys of `kind` matching what was typed (`HF-1`, `hf-1`,
    `1`), newest first."""
    m = _TYPED.match(incomplete.strip())
    if m is None or not PREFIXES[kind].startswith(m.group(1).upper()):
        return []
    db_path = _db_path(repo, db)
    if db_path is None:
        return []
    return key_candidates(db_path, kind, m.group(2), limit, only)


def environments(incomplete: str, repo: str | None = None) -> list[str]:
    """Environment names from .hotfix.toml that start with what was typed."""
    config = _config(_repo(repo))
    if config is None:
        return []
    return [n for n in config.env_names if n.startswith(incomplete)]
