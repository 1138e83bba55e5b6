"""Where a command looked: an `unknown HF-9` names the repository and the database, since
the usual cause is running in the wrong directory (or with the wrong --db / $HOTFIX_DB)."""

from __future__ import annotations

from ..core.errors import UnknownKey


def located(exc: UnknownKey, ctx) -> UnknownKey:
    """`exc` with the repository and database of `ctx` (a services Context, or None when
    the failure came before one was built) in its message and in `exc.where`."""
    if ctx is None:
        return exc
    repo = str(ctx.repo.toplevel) if ctx.repo is not None else None
    db = str(ctx.db_path)
    exc.where = {"repository": repo, "database": db}
    in_repo = f"repository {repo}" if repo else f"no repository ({ctx.repo_error})"
    if ctx.db_path.exists():
        exc.message = f"{exc.message} in database {db} ({in_repo})"
    else:
        exc.message = (f"{exc.message}: there is no database at {db} ({in_repo}); run in the "
                       "repository where it was made, or give --repo or --db")
    return exc
