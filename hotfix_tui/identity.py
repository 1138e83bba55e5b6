"""Who is acting: the OS account, never $USER or $LOGNAME.

HOTFIX_ACTOR overrides it only where the repository's config allows it
(demos and tests); every record made so is marked unverified.
"""

from __future__ import annotations

import os
import pwd
import re
from collections.abc import Callable

from .config import Config
from .core.models import Actor

OVERRIDE_ENV = "HOTFIX_ACTOR"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_EMAIL_DOMAIN = [""]


def use_email_domain(domain: str) -> None:
    """[identity] email_domain: the domain of the address given to commits made by an
    account git knows no identity for (gitaccess reads it when it needs one)."""
    _EMAIL_DOMAIN[0] = domain


def email_domain() -> str:
    return _EMAIL_DOMAIN[0]


def os_account() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid{os.getuid()}"


def current_actor(config: Config,
                  committed_allows: Callable[[], bool] | None = None
                  ) -> tuple[Actor, str | None]:
    """The acting user, and a warning to show when an override was ignored or refused.

    `committed_allows` says whether the committed config (not just the working tree's,
    which anyone with write access to the checkout could edit) allows the override.
    """
    account = os_account()
    override = os.environ.get(OVERRIDE_ENV, "").strip()
    if not override or override == account:
        return Actor(account, True, account), None
    if not config.identity.allow_override:
        return (
            Actor(account, True, account),
            f"{OVERRIDE_ENV} ignored: this repository does not allow identity overrides "
            f"([identity] allow_override); acting as {account}",
        )
    if committed_allows is not None and not committed_allows():
        return (
            Actor(account, True, account),
            f"{OVERRIDE_ENV} ignored: allow_override is set in the working tree's "
            f".hotfix.toml but not in the committed one; acting as {account}",
        )
    if not _NAME.match(override):
        return (
            Actor(account, True, account),
            f"{OVERRIDE_ENV}={override!r} ignored: not a valid user name; acting as {account}",
        )
    return Actor(override, False, account), None
