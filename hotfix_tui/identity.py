"""Who is acting: the OS account, never $USER or $LOGNAME.

HOTFIX_ACTOR overrides it only where the repository's config allows it
(demos and tests); every record made so is marked unverified.
"""

from __future__ import annotations

import os
import pwd
import re

from .config import Config
from .core.models import Actor

OVERRIDE_ENV = "HOTFIX_ACTOR"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def os_account() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid{os.getuid()}"


def current_actor(config: Config) -> tuple[Actor, str | None]:
    """The acting user, and a warning to show when an override was ignored or refused."""
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
    if not _NAME.match(override):
        return (
            Actor(account, True, account),
            f"{OVERRIDE_ENV}={override!r} ignored: not a valid user name; acting as {account}",
        )
    return Actor(override, False, account), None
