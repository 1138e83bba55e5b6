"""What a shell's Tab offers: keys (INC-n, HF-n, D-n) and environment names, read from
the database and .hotfix.toml of the repository the command line names (--repo, --db) or
the current one. Every command module uses these, so this module stays small; the
`hotfix completion` command itself is in completion_cmd."""

from __future__ import annotations

import click

from .common import safe


def _where(ctx: click.Context) -> tuple[str | None, str | None]:
    params = ctx.find_root().params
    return params.get("repo"), params.get("db")


def _keys(kind: str, only: str | None = None):
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str):
        from click.shell_completion import CompletionItem  # (only a Tab loads it)

        from ..services import completion

        repo, db = _where(ctx)
        return [CompletionItem(key, help=safe(text).replace("\n", " ")[:80])
                for key, text in completion.keys(kind, incomplete, repo, db, only)]

    return complete


def complete_env(ctx: click.Context, param: click.Parameter, incomplete: str):
    from click.shell_completion import CompletionItem

    from ..services import completion

    repo, _ = _where(ctx)
    return [CompletionItem(name) for name in completion.environments(incomplete, repo)]


complete_hotfix = _keys("hotfix")
complete_active_hotfix = _keys("hotfix", "active")
complete_incident = _keys("incident")
complete_open_incident = _keys("incident", "open")
complete_run = _keys("run")
complete_running = _keys("run", "running")
