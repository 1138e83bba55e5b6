"""The context every use case runs in: repository, config, database, actor, clock."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import anchor, sharing
from ..clock import iso, utcnow
from ..config import (
    CONFIG_NAME,
    MAX_CONFIG_BYTES,
    Config,
    IdentitySection,
    load_config,
    parse_config,
)
from ..core.approval import Policy
from ..core.errors import ConfigError, GitError, HotfixError
from ..core.models import Actor
from ..identity import current_actor, use_email_domain
from ..repo import RepoPaths, find_repo
from ..store import Store, open_store
from . import notices

DB_ENV = "HOTFIX_DB"


@dataclass
class Context:
    """What every use case runs with: repository, config, database, actor, clock."""

    repo: RepoPaths | None
    config: Config
    db_path: Path
    actor: Actor
    warnings: list[str] = field(default_factory=list)
    clock: Callable[[], datetime] = utcnow
    repo_error: str = ""
    readonly: bool = False  # a browsing console: opens the database read-only, writes nothing
    db_source: str = ""  # where db_path came from: "--db", "$HOTFIX_DB", "[store] path", ""
    create_db: bool = False  # may create a database named by db_source (`hotfix init`)
    on_warning: Callable[[str], None] | None = None  # how a face shows a late warning
    # One connection for everything this context reads and writes, until close(): a CLI
    # command opens SQLite once. Not for the console, whose workers run in threads.
    one_connection: bool = False
    _config_stamp: tuple | None = None
    _policy: tuple[str, Policy] | None = None
    _store: Store | None = None

    def config_stamp(self) -> tuple | None:
        path = self.repo.toplevel / CONFIG_NAME if self.repo else None
        try:
            st = path.stat() if path else None
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino) if st else None

    def fresh_config(self) -> Config:
        """The config as `.hotfix.toml` is now: a long-running console must not judge
        approvals by the file it saw at startup."""
        stamp = self.config_stamp()
        if stamp != self._config_stamp:
            self.config = load_config(self.repo.toplevel if self.repo else None)
            self._config_stamp = stamp
        return self.config

    @property
    def approval_policy(self) -> Policy:
        """How approvals are judged here: overrides count (marked) only where the config,
        as committed too, allows them; a sandbox only where both say so. Git is asked
        what is committed only when an approval is judged (most reads judge none)."""
        cfg = self.fresh_config()
        if not cfg.identity.allow_override:
            return Policy()
        return _CommittedPolicy(self)  # type: ignore[return-value]

    def policy_now(self) -> Policy:
        """approval_policy, judged now (a Policy that dataclasses.replace can copy)."""
        policy = self.approval_policy
        return policy if isinstance(policy, Policy) else self.committed_policy()

    def committed_policy(self) -> Policy:
        cfg = self.fresh_config()
        if self._policy is None or self._policy[0] != cfg.sha256:
            committed = _committed_identity(self.repo) if self.repo else cfg.identity
            allowed = committed is not None and committed.allow_override
            self._policy = (cfg.sha256, Policy(
                overrides_allowed=allowed,
                sandbox=allowed and cfg.identity.sandbox and committed.sandbox))
        return self._policy[1]

    def now(self) -> str:
        return iso(self.clock())

    def require_repo(self) -> RepoPaths:
        if self.repo is None:
            raise GitError(self.repo_error or "not a git repository")
        return self.repo

    def check_db(self) -> None:
        check_db_location(self.db_path, self.db_source, self.create_db)

    @contextmanager
    def reading(self):
        """A store for reads; a missing database at the default location reads as empty
        and is not created (one named by --db and the like must exist)."""
        store = self.open(create=False)
        try:
            yield store
        finally:
            store.close()

    @contextmanager
    def writing(self):
        """A store for writes; at the default location, the database and its folder are
        created on first use. A browsing context (readonly) gets a read-only store: its
        writes are refused."""
        store = self.open(create=True)
        try:
            yield store
        finally:
            store.close()

    def open(self, create: bool = True) -> Store:
        """A store whose every change that extends the audit chain is anchored in the
        repository (hotfix_tui.anchor); with one_connection, the context's own (closing it
        does nothing)."""
        self.check_db()
        held = self._store
        if self.one_connection and held is not None and not (
                create and held.path == ":memory:"):
            return held  # an empty in-memory store stands for a database not made yet
        store = open_store(self.db_path, create=create, readonly=self.readonly)
        if self.repo is not None and not self.readonly and not store.readonly:
            anchor.install(store, self.repo.toplevel, self.warn)
        if self.one_connection:
            store.keep_open = True
            if held is not None:
                held.keep_open = False
                held.close()
            self._store = store
        return store

    def close(self) -> None:
        """Close the connection held with one_connection (nothing otherwise)."""
        store, self._store = self._store, None
        if store is not None:
            store.keep_open = False
            store.close()

    def warn(self, text: str) -> None:
        if self.on_warning is not None:
            self.on_warning(text)
        else:
            self.warnings.append(text)


class _CommittedPolicy:
    """A Policy that reads what is committed on first use (Context.committed_policy)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._policy: Policy | None = None

    def __getattr__(self, name: str):  # every field of a Policy, as committed
        if self._policy is None:  # (once: a read judges many approvals with this one)
            self._policy = self._ctx.committed_policy()
        return getattr(self._policy, name)


def resolve_db_path(db: str | os.PathLike | None, repo: RepoPaths | None,
                    config: Config, repo_error: str = "") -> tuple[Path, str]:
    """--db, then $HOTFIX_DB, then [store] path, then <git common dir>/hotfix/hotfix.db;
    with where the path came from ("" for the default location)."""
    if db:
        return Path(db).expanduser().absolute(), "--db"
    env = os.environ.get(DB_ENV, "").strip()
    if env:
        return Path(env).expanduser().absolute(), f"${DB_ENV}"
    if config.store.path:
        p = Path(config.store.path).expanduser()
        if not p.is_absolute() and repo is not None:
            p = repo.toplevel / p
        return p.absolute(), "[store] path"
    if repo is None:
        raise HotfixError(f"{repo_error or 'not a git repository'}; run inside one, or give "
                          f"--db PATH or ${DB_ENV}")
    return repo.common_dir / "hotfix" / "hotfix.db", ""


def take_notices() -> list[str]:
    """What the user should hear once, collected while a command ran (a commit made
    under the OS account's identity because git had none; a decision left unsigned)."""
    said = notices.take()
    if "hotfix_tui.gitaccess" not in sys.modules:
        return said  # no git command ran, so none had anything to say
    from .. import gitaccess

    return gitaccess.take_notices() + said


def check_db_location(path: Path, source: str, create: bool) -> None:
    """A database named explicitly must be there: a mistyped --db or $HOTFIX_DB would
    otherwise show an empty world, and its first write would fork the team's record.
    Only the default location, or `hotfix init`, creates one."""
    if not source:
        return
    if not path.parent.is_dir():
        raise HotfixError(f"no such folder for the database {path} (from {source})")
    if not path.exists() and not create:
        raise HotfixError(f"no hotfix database at {path} (from {source}); check the path, "
                          f"or create it there with: hotfix init")


def _committed_identity(paths: RepoPaths) -> IdentitySection | None:
    """[identity] of the committed .hotfix.toml (HEAD of the main worktree), if any."""
    from .. import gitaccess  # (a read that judges no approval runs no git)

    size = gitaccess.run_git(paths.toplevel, "cat-file", "-s", f"HEAD:{CONFIG_NAME}",
                             check=False)
    if not size.ok or not size.out.strip().isdigit() or int(size.out) > MAX_CONFIG_BYTES:
        return None  # none committed, or too big to be one: never read whole
    res = gitaccess.run_git(paths.toplevel, "show", f"HEAD:{CONFIG_NAME}", check=False)
    if not res.ok:
        return None
    try:
        return parse_config(res.out).identity
    except ConfigError:
        return None


def _committed_allows_override(paths: RepoPaths) -> bool:
    """Does the committed .hotfix.toml allow HOTFIX_ACTOR?"""
    committed = _committed_identity(paths)
    return committed is not None and committed.allow_override


def open_context(
    repo: str | os.PathLike | None = None,
    db: str | os.PathLike | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    create_db: bool = False,
) -> Context:
    """Resolve everything a command needs. A missing repository is only an error
    for commands that need one (require_repo), unless --repo was given."""
    paths: RepoPaths | None = None
    repo_error = ""
    try:
        paths = find_repo(repo)
    except GitError as exc:
        if repo is not None:
            raise
        repo_error = str(exc)
    config = load_config(paths.toplevel if paths else None)
    db_path, db_source = resolve_db_path(db, paths, config, repo_error)
    sharing.activate(sharing.detect(db_path, config.store.shared_group))
    use_email_domain(config.identity.email_domain)
    actor, warning = current_actor(
        config, (lambda: _committed_allows_override(paths)) if paths else None)
    ctx = Context(repo=paths, config=config, db_path=db_path, actor=actor,
                  warnings=[warning] if warning else [], repo_error=repo_error,
                  db_source=db_source, create_db=create_db)
    ctx._config_stamp = ctx.config_stamp()  # what `config` was read from
    if clock is not None:
        ctx.clock = clock
    return ctx


def probe_store(ctx: Context) -> None:
    """Open the database as the console will, so that a foreign or newer file, or a
    named one that is missing, is said before anything starts."""
    with ctx.reading():
        pass
