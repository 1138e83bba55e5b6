"""Running git as the acting account on a shared bastion.

The process itself (an argument list, a clean environment, no shell, no stdin),
git's ownership check (safe.directory) for worktrees other accounts created, the commit
identity of an account git knows none for, and git's refusals said as what they are.
gitops builds every git call on this.
"""

from __future__ import annotations

import os
import pwd
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import identity
from .core.errors import GitError
from .identity import os_account, use_email_domain  # noqa: F401 (gitops re-exports it)
from .sharing import owner_name


@dataclass(frozen=True)
class CommandRecord:
    """One git command this process ran, for the command log."""

    argv: tuple[str, ...]
    cwd: str
    status: int
    seconds: float


# Observers see every git command run by this process (the console's command log).
_observers: list[Callable[[CommandRecord], None]] = []
_observers_lock = threading.Lock()


def observe(callback: Callable[[CommandRecord], None]) -> Callable[[], None]:
    """Call `callback` with every git command run from now on; returns the function that
    stops it."""
    with _observers_lock:
        _observers.append(callback)

    def stop() -> None:
        with _observers_lock:
            if callback in _observers:
                _observers.remove(callback)

    return stop


def tell_observers(record: CommandRecord) -> None:
    with _observers_lock:
        observers = list(_observers)
    for observer in observers:
        observer(record)


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    # git's messages in English whatever the user's language: the checks below read them
    # ("detected dubious ownership": a translated one would pass as trusted)
    env["LC_ALL"] = "C"
    env["LANGUAGE"] = "C"
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_EDITOR"] = "true"
    env["GIT_SEQUENCE_EDITOR"] = "true"
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    env.pop("GIT_INDEX_FILE", None)
    return env


DUBIOUS = "detected dubious ownership"
COMMITTING = frozenset({"cherry-pick", "commit", "merge", "revert", "am", "rebase"})
_IDENTITY: dict[str, dict[str, str]] = {}  # per cwd: the env that gives commits an author
_TRUSTED: dict[str, bool] = {}  # per common dir: does git accept it for this account?
_NOTICES: list[str] = []  # said once per process, then drained by the face
_settings = {"identity_said": ""}


def take_notices() -> list[str]:
    """Things the user should hear once (a fallback identity was used); drained."""
    out = list(_NOTICES)
    _NOTICES.clear()
    return out


def execute(cwd: str | Path, argv: list[str], env: dict[str, str], strip: bool = True):
    """Run one git command: (exit status, stdout, stderr), decoded as UTF-8 (undecodable
    bytes replaced), stdout without its last newline when `strip`, stderr without its
    last newline. An argument list, no shell, and nothing for git to read on stdin."""
    import subprocess  # loaded by the first git command: reads that run none never do

    try:
        proc = subprocess.run(argv, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, check=False)
    except FileNotFoundError as exc:
        if not Path(cwd).is_dir():
            raise GitError(f"no such folder: {cwd}") from exc
        raise GitError("git is not installed or not on PATH") from exc
    except NotADirectoryError as exc:
        raise GitError(f"not a folder: {cwd}") from exc
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    if strip and out.endswith("\n"):
        out = out[:-1]
    if err.endswith("\n"):
        err = err[:-1]
    return proc.returncode, out, err


def subcommand(args: tuple[str, ...]) -> tuple[str, int]:
    i = 0
    while i < len(args) and args[i] == "-c":
        i += 2
    return (args[i] if i < len(args) else ""), i


def trust_command(path: str | Path) -> str:
    return f"sudo git config --system --add safe.directory {path}"


# ---- accounts: ownership and identity ---------------------------------------------------

def ownership_message(err: str, cwd: str | Path) -> str:
    """git's safe.directory refusal, said as what it is, with the admin's one fix."""
    m = re.search(r"dubious ownership in repository at '([^']+)'", err)
    where = m.group(1) if m else str(cwd)
    try:
        owner = owner_name(Path(where).stat().st_uid)
    except OSError:
        owner = "another account"
    return (f"git refuses the repository at {where}: it belongs to {owner}, not "
            f"{os_account()} (git's safe.directory check); an admin trusts it once for every "
            f"account with: {trust_command(where)}")


def _owned(path: Path) -> bool:
    try:
        return path.stat().st_uid == os.geteuid()
    except OSError:
        return True


def _linked_worktree(cwd: Path) -> tuple[Path, Path, Path] | None:
    """(top, its private git dir, the common dir) when `cwd` is in a linked worktree
    whose `.git` file and git's own back-link agree."""
    for candidate in (cwd, *cwd.parents):
        dotgit = candidate / ".git"
        if dotgit.is_file():
            break
        if dotgit.exists():
            return None
    else:
        return None
    try:
        text = dotgit.read_text(encoding="utf-8", errors="replace").strip()
        if not text.startswith("gitdir:"):
            return None
        gitdir = Path(text.split(":", 1)[1].strip())
        gitdir = (gitdir if gitdir.is_absolute() else candidate / gitdir).resolve()
        common = (gitdir / (gitdir / "commondir").read_text().strip()).resolve()
        back = Path((gitdir / "gitdir").read_text().strip()).resolve()
    except OSError:
        return None
    if gitdir.parent != common / "worktrees" or back != (candidate / ".git").resolve():
        return None
    return candidate.resolve(), gitdir, common


def _trusted(common: Path) -> bool:
    """Does git accept the repository that owns `common` for this account (it is ours,
    or an admin listed it in safe.directory)?"""
    key = str(common)
    if key not in _TRUSTED:
        top = common.parent if common.name == ".git" else common
        if _owned(top) and _owned(common):
            _TRUSTED[key] = True
        else:
            status, _, err = execute(top, ["git", "rev-parse", "--git-dir"], git_env())
            _TRUSTED[key] = not (status != 0 and DUBIOUS in err)
    return _TRUSTED[key]


def trust_args(cwd: str | Path) -> list[str]:
    """`-c safe.directory=<worktree>` for a hotfix worktree another account created.

    Safe because such a worktree has no configuration or hooks of its own: git reads
    them from the common repository, which this account already trusts (it owns it,
    or an admin listed it in safe.directory; checked here). What the worktree's owner
    controls is its files and its `.git` pointer, and the pointer is checked to lead
    into that trusted repository, with git's back-link agreeing. So a hand-off (bob
    picks into alice's hotfix) needs no admin step beyond trusting the shared clone.
    """
    linked = _linked_worktree(Path(cwd).absolute())
    if linked is None:
        return []
    top, gitdir, common = linked
    if _owned(top) and _owned(top / ".git") and _owned(gitdir):
        return []
    if not _trusted(common):
        return []  # git's own refusal follows, and is reported as what it is
    return ["-c", f"safe.directory={top}"]


def fallback_identity(email_domain: str = "") -> tuple[str, str]:
    """The OS account as a commit identity: its name from the password database, its
    address from [identity] email_domain or the host's name."""
    account = os_account()
    try:
        gecos = pwd.getpwuid(os.getuid()).pw_gecos.split(",")[0].strip()
    except KeyError:
        gecos = ""
    import socket  # only for an account git knows no identity for

    host = email_domain or socket.getfqdn() or socket.gethostname() or "localhost"
    return gecos or account, f"{account}@{host}"


def _git_ident(cwd: str | Path, env: dict[str, str]) -> str | None:
    """`Name <email>` as git would commit here, or None when git knows no identity."""
    trust = trust_args(cwd)
    status, out, _ = execute(cwd, ["git", *trust, "var", "GIT_COMMITTER_IDENT"], env)
    if status != 0 or execute(cwd, ["git", *trust, "var", "GIT_AUTHOR_IDENT"], env)[0] != 0:
        return None
    return out.rsplit(">", 1)[0] + ">" if ">" in out else out


def identity_env(cwd: str | Path, env: dict[str, str]) -> dict[str, str]:
    """Nothing when git knows who commits; otherwise the OS account's identity (said
    once), never a commit that fails with "Committer identity unknown"."""
    key = str(cwd)
    if key not in _IDENTITY:
        if _git_ident(cwd, env) is not None:
            _IDENTITY[key] = {}
        else:
            name, email = fallback_identity(identity.email_domain())
            _IDENTITY[key] = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
                              "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}
            if not _settings["identity_said"]:
                _NOTICES.append(f"git has no identity for this account; commits made by hotfix "
                                f"use {name} <{email}> (set git config --global user.name and "
                                f"user.email to choose)")
                _settings["identity_said"] = "yes"
    return _IDENTITY[key]


def commit_identity(cwd: str | Path) -> tuple[str, str, bool]:
    """(name, email, is_fallback) of the commits hotfix would make in `cwd`."""
    ident = _git_ident(cwd, git_env())
    if ident is None:
        name, email = fallback_identity(identity.email_domain())
        return name, email, True
    name, _, email = ident.partition(" <")
    return name, email.rstrip(">"), False


# ---- one git command ------------------------------------------------------------------

@dataclass(frozen=True)
class GitResult:
    """A finished git command: its status and output."""

    status: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.status == 0


def run_git(cwd: str | Path, *args: str, check: bool = True, strip: bool = True,
            env: dict[str, str] | None = None) -> GitResult:
    """Run `git args…` in `cwd`; raise GitError on failure if check.

    git's refusal of a repository owned by another account is always raised, as what
    it is: callers that tolerate a failure (check=False) would otherwise report it as
    "unknown ref" or "nothing recorded".
    """
    full_env = git_env(env)
    sub, _ = subcommand(args)
    if sub in COMMITTING or (sub == "tag" and "-a" in args):
        full_env.update(identity_env(cwd, full_env))
    argv = ["git", *trust_args(cwd), *args]
    started = time.monotonic()
    status, out, err = execute(cwd, argv, full_env, strip)
    record = CommandRecord(tuple(argv), str(cwd), status, time.monotonic() - started)
    tell_observers(record)
    if status != 0 and DUBIOUS in err:
        raise GitError(ownership_message(err, cwd))
    if check and status != 0:
        first = next((ln for ln in err.splitlines() if ln.strip()), f"exit {status}")
        first = first.removeprefix("fatal: ").removeprefix("error: ")
        raise GitError(f"git {args[0]} failed: {first}")
    return GitResult(status, out, err)
