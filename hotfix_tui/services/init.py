"""`hotfix init`: a commented `.hotfix.toml` template."""

from __future__ import annotations

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
production_env = "production"    # hotfixes start from it; finish needs them verified there

[approvals]
required = 1                     # distinct approvers, never the author
break_glass = true               # allow deploys without approval (loudly recorded)
signatures = "optional"          # "off" | "optional" | "required": approvals signed with SSH keys
allowed_signers = ".hotfix/allowed_signers"   # who may sign: git's format, in the repository

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
                                 # as a marked name; the OS account still decides
sandbox = false                  # demos and tests: each $HOTFIX_ACTOR name counts as a person
signing_key = ""                 # default: your ssh-agent's key; or "~/.ssh/id_ed25519.pub"

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
# requires = ["staging"]         # the same content deployed and verified on staging first
# min_soak_s = 300               # … and this long ago
#
# [environments.staging]
# driver = "local-symlink"       # built-in: releases/<version>-<sha> and a `current` link
# path = "/srv/app"
'''


def init_config(ctx: Context) -> list[str]:
    """Set up hotfix here: the commented `.hotfix.toml` (never overwritten) and the
    database (the only way, besides the default location, that one is created).
    Returns what was created; an error when there was nothing left to create."""
    done: list[str] = []
    path = ctx.repo.toplevel / CONFIG_NAME if ctx.repo is not None else None
    if path is not None and not path.exists():
        parse_config(TEMPLATE, path)  # the template itself must always be valid
        path.write_text(TEMPLATE, encoding="utf-8")
        done.append(f"wrote {path}")
    if not ctx.db_path.exists():
        with ctx.writing():
            pass
        done.append(f"created the database {ctx.db_path}")
    if not done:
        if path is None:
            raise HotfixError(f"the database {ctx.db_path} already exists")
        raise HotfixError(f"{path} already exists; not overwriting it (the database "
                          f"{ctx.db_path} exists too)")
    return done
