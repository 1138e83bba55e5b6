"""`hotfix init`: a commented `.hotfix.toml` template."""

from __future__ import annotations

from pathlib import Path

from ..config import CONFIG_NAME, parse_config
from ..core.errors import HotfixError
from .context import Context

TEMPLATE = '''\
# hotfix-tui configuration. Commit it and review changes to it like code:
# approvals are bound to this file's content, so changing it makes them stale.

[hotfix]
branch_prefix = "hotfix/"        # hotfix branches are <prefix><version>
tag_format = "v{version}"        # how release tags are named
forward_port = ["main"]          # branches that must receive every hotfix
worktree_dir = ""                # default: <git common dir>/hotfix/worktrees
remote = "origin"                # where `finish --push` pushes
production_env = "production"    # the environment hotfixes start from

[approvals]
required = 1                     # distinct approvers, never the author
break_glass = true               # allow deploys without approval (loudly recorded)

[scope]
max_files = 10
max_lines = 200                  # insertions + deletions
forbidden = ["migrations/**", "*.lock", "requirements*.txt"]   # gitignore-style globs
allowed = []                     # empty: anywhere not forbidden
checklist = [
    "Root cause understood",
    "Change limited to the failing component",
    "Rollback plan tested or obvious",
]

[identity]
allow_override = false           # true only for demos and tests: honours $HOTFIX_ACTOR

# [store]
# path = ""                      # default: <git common dir>/hotfix/hotfix.db

# [environments.production]
# deploy   = ["./ops/deploy.sh", "{sha}", "{version}"]   # argv list, never a shell string
# verify   = ["./ops/healthcheck.sh", "{version}"]       # optional
# rollback = []                  # default: deploy the previous good release again
# timeout_s = 900
# cancel_grace_s = 10
# requires_approval = true
# verify_items = ["Error rate back to baseline"]
#
# [environments.staging]
# driver = "local-symlink"       # built-in: releases/<version>-<sha> and a `current` link
# path = "/srv/app"
'''


def init_config(ctx: Context) -> Path:
    repo = ctx.require_repo()
    path = repo.toplevel / CONFIG_NAME
    if path.exists():
        raise HotfixError(f"{path} already exists; not overwriting it")
    parse_config(TEMPLATE, path)  # the template itself must always be valid
    path.write_text(TEMPLATE, encoding="utf-8")
    return path
