"""`hotfix doctor`: is this account set up to work on the shared record?

One line per check, each failure with the exact command that fixes it. Checks read;
they never repair (opening the database is left to the commands that need it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from .. import gitops, sharing, signing
from ..clock import iso, parse_iso, utcnow
from ..core.errors import HotfixError
from ..identity import os_account
from . import signatures
from .context import Context

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_SQLITE = (3, 37, 0)  # STRICT tables
SKEW_LIMIT_S = 60


@dataclass(frozen=True)
class Check:
    """One check of `hotfix doctor`, and how to fix what it found."""

    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class DoctorReport:
    """Every check of `hotfix doctor` for this account."""

    account: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.status != FAIL for c in self.checks)

    def to_json(self) -> dict:
        return {"ok": self.ok, "account": self.account,
                "checks": [asdict(c) for c in self.checks]}


def _mode(path: Path) -> str:
    return f"{stat.S_IMODE(path.stat().st_mode):04o}"


def _shared(ctx: Context) -> sharing.Sharing | None:
    try:
        return sharing.detect(ctx.db_path, ctx.config.store.shared_group)
    except Exception:
        return None


def check_sharing(ctx: Context) -> list[Check]:
    s = _shared(ctx)
    folder = sharing.nearest_existing(ctx.db_path.parent)
    if s is None:
        try:
            group_writable = bool(folder.stat().st_mode & stat.S_IWGRP)
        except OSError:
            group_writable = False
        if group_writable:
            return [Check("shared mode", FAIL,
                          f"{folder} is group-writable but not setgid, so files made there "
                          "get each account's own group",
                          f"sudo chmod g+s {folder}")]
        return [Check("shared mode", OK,
                      f"private: {folder} is not setgid and [store] shared_group is unset")]
    out = [Check("shared mode", OK, f"on: {s.why}")]
    if sharing.in_group(s.gid):
        out.append(Check("group", OK, f"{os_account()} is in group {s.group}"))
    else:
        out.append(Check("group", FAIL, f"{os_account()} is not in group {s.group}",
                         f"sudo usermod -aG {s.group} {os_account()} (then log in again)"))
    return out


def _check_sidecars(db: Path, st: os.stat_result, group: str) -> list[Check]:
    """`-wal`, `-shm` and `-journal` must be as open as the database."""
    out: list[Check] = []
    want = stat.S_IMODE(st.st_mode) & 0o666
    for suffix in sharing.SIDECARS:
        side = Path(str(db) + suffix)
        if not side.exists():
            continue
        sst = side.stat()
        have = stat.S_IMODE(sst.st_mode)
        if have & want != want or sst.st_gid != st.st_gid:
            out.append(Check(f"database {suffix}", FAIL,
                             f"{side}: {sharing.owner_name(sst.st_uid)}:"
                             f"{sharing.group_name(sst.st_gid)} {have:04o}, narrower than the "
                             f"database's {want:04o}",
                             f"sudo chmod {want:o} {side} && sudo chgrp {group} {side}"))
        else:
            out.append(Check(f"database {suffix}", OK, f"{side.name} {have:04o}"))
    return out


def check_database(ctx: Context) -> list[Check]:
    db = ctx.db_path
    try:
        ctx.check_db()
    except HotfixError as exc:
        return [Check("database", FAIL, str(exc), "hotfix init (or correct --db, $HOTFIX_DB, "
                      "[store] path)")]
    if not db.exists():
        where = f"{db} (from {ctx.db_source})" if ctx.db_source else str(db)
        return [Check("database", OK, f"{where} does not exist yet; the first change "
                      "creates it")]
    out: list[Check] = []
    s = _shared(ctx)
    st = db.stat()
    owner, group = sharing.owner_name(st.st_uid), sharing.group_name(st.st_gid)
    writable = os.access(db, os.W_OK) and os.access(db.parent, os.W_OK | os.X_OK)
    detail = f"{db}: {owner}:{group} {_mode(db)}"
    if not os.access(db, os.R_OK):
        out.append(Check("database", FAIL, f"{detail}, not readable by {os_account()}",
                         f"sudo chmod g+r {db}"))
    elif s is not None and (st.st_mode & sharing.GROUP_RW != sharing.GROUP_RW
                            or st.st_gid != s.gid):
        out.append(Check("database", FAIL, f"{detail}, not writable by group {s.group}",
                         f"sudo chgrp {s.group} {db} && sudo chmod g+rw {db}"))
    elif not writable:
        out.append(Check("database", WARN, f"{detail}, read-only for {os_account()} "
                         "(browsing works: hotfix tui --readonly)"))
    else:
        out.append(Check("database", OK, f"{detail}, writable"))
    out += _check_sidecars(db, st, group)
    if s is not None:
        folder = db.parent
        if not folder.stat().st_mode & stat.S_ISGID:
            out.append(Check("database folder", FAIL, f"{folder} is not setgid",
                             f"sudo chgrp {s.group} {folder} && sudo chmod 2775 {folder}"))
        else:
            out.append(Check("database folder", OK, f"{folder} {_mode(folder)}"))
    return out


def _tool_dirs(ctx: Context) -> list[Path]:
    if ctx.repo is None:
        return []
    root = ctx.repo.common_dir / "hotfix"
    dirs = [root, root / "worktrees", root / "runs"]
    configured = ctx.config.hotfix.worktree_dir
    if configured:
        p = Path(configured).expanduser()
        dirs.append(p if p.is_absolute() else ctx.repo.toplevel / p)
    return [d for d in dirs if d.is_dir()]


def check_tool_dirs(ctx: Context) -> list[Check]:
    s = _shared(ctx)
    if s is None:
        return []
    bad = []
    for top in _tool_dirs(ctx):
        for path in (top, *(p for p in top.iterdir() if p.is_dir())):
            st = path.stat()
            if st.st_mode & stat.S_IWGRP == 0 or st.st_gid != s.gid:
                bad.append(path)
    if not bad:
        return [Check("shared folders", OK, "the tool's folders are group-writable")]
    shown = " ".join(str(p) for p in bad[:3]) + (" …" if len(bad) > 3 else "")
    return [Check("shared folders", FAIL, f"not group-writable by {s.group}: {shown}",
                  f"sudo chgrp -R {s.group} {bad[0]} && sudo chmod -R g+rwX {bad[0]} && "
                  f"sudo find {bad[0]} -type d -exec chmod g+s {{}} +")]


def check_git(ctx: Context) -> list[Check]:
    if ctx.repo is None:
        return [Check("git repository", WARN, ctx.repo_error or "not in a git repository")]
    top = ctx.repo.toplevel
    res = gitops.probe(top)
    if res:
        return [Check("git repository", FAIL, res, gitops.trust_command(top))]
    out = [Check("git repository", OK, f"{top}: git accepts it for {os_account()}")]
    worktrees = [p for d in _tool_dirs(ctx) if d.name != "hotfix" for p in d.iterdir()
                 if (p / ".git").is_file()]
    refused = [(p, why) for p in worktrees if (why := gitops.probe(p))]
    if refused:
        path, why = refused[0]
        out.append(Check("hotfix worktrees", FAIL, f"{len(refused)} of {len(worktrees)} "
                         f"refused; {path}: {why}", gitops.trust_command(path)))
    elif worktrees:
        out.append(Check("hotfix worktrees", OK, f"git works in all {len(worktrees)}"))
    name, email, fallback = gitops.commit_identity(top)
    if fallback:
        out.append(Check("git identity", WARN,
                         f"none configured; commits made by hotfix use {name} <{email}>",
                         'git config --global user.name "Your Name" && '
                         "git config --global user.email you@example.com"))
    else:
        out.append(Check("git identity", OK, f"{name} <{email}>"))
    return out


def check_terminal() -> list[Check]:
    out = []
    if shutil.which("tmux"):
        out.append(Check("tmux", OK, "installed (keeps a console across dropped sessions)"))
    else:
        out.append(Check("tmux", WARN, "not installed; deploys survive a dropped session, "
                         "an open console does not", "sudo apt-get install tmux"))
    term = os.environ.get("TERM", "")
    colour = os.environ.get("COLORTERM", "") or os.environ.get("TEXTUAL_COLOR_SYSTEM", "")
    if not term or term in ("dumb", "vt100", "vt220"):
        out.append(Check("TERM", WARN, f"TERM={term or '(unset)'}: no colours or box drawing",
                         "export TERM=xterm-256color"))
    elif "256color" not in term and colour not in ("truecolor", "24bit", "256"):
        out.append(Check("TERM", WARN, f"TERM={term}, COLORTERM unset: 16 colours",
                         "export COLORTERM=truecolor (ssh: SendEnv COLORTERM, sshd: AcceptEnv "
                         "COLORTERM)"))
    else:
        out.append(Check("TERM", OK, f"TERM={term}" + (f", COLORTERM={colour}" if colour
                                                          else "")))
    return out


def check_sqlite() -> Check:
    version = sqlite3.sqlite_version_info
    shown = sqlite3.sqlite_version
    if version < MIN_SQLITE:
        need = ".".join(map(str, MIN_SQLITE))
        return Check("sqlite", FAIL, f"SQLite {shown}; hotfix needs {need} or newer",
                     "use a Python built with a newer SQLite (Debian 12 and later have one)")
    return Check("sqlite", OK, f"SQLite {shown}")


def check_clock(ctx: Context) -> Check:
    if not ctx.db_path.exists() or not os.access(ctx.db_path, os.R_OK):
        return Check("clock", OK, "no events to compare with yet")
    try:
        with ctx.reading() as store:
            newest = store.scalar("SELECT max(at) FROM audit_events")
    except Exception as exc:  # a broken database is reported by the database check
        return Check("clock", WARN, f"cannot read the newest event: {exc}")
    if not newest:
        return Check("clock", OK, "no events to compare with yet")
    ahead = (parse_iso(newest) - utcnow()).total_seconds()
    if ahead > SKEW_LIMIT_S:
        return Check("clock", FAIL, f"the newest event ({newest}) is {ahead:.0f}s in this "
                     "machine's future: its clock, or the writer's, is off",
                     "sudo timedatectl set-ntp true (or: sudo chronyc makestep)")
    return Check("clock", OK, f"newest event {newest}, not in the future")


def _program_problem(ctx: Context, prog: str) -> str:
    """Why the program of a hook cannot run from the repository's top folder, or ''."""
    if "{" in prog:
        return ""  # chosen per event
    if "/" in prog:
        base = ctx.repo.toplevel if ctx.repo else Path("/")
        path = Path(prog) if os.path.isabs(prog) else base / prog
        if not path.is_file():
            return f"{prog} does not exist"
        return "" if os.access(path, os.X_OK) else f"{prog} is not executable"
    return "" if shutil.which(prog) else f"{prog} not found on PATH"


def check_hooks(ctx: Context) -> list[Check]:
    """Every hook's program can start; the delivery lock can be taken; recent failures."""
    hooks = ctx.config.hooks
    if not hooks.commands:
        return []
    out: list[Check] = []
    problems = [f"{key}: {why}" for key, argv in hooks.commands
                if (why := _program_problem(ctx, argv[0]))]
    if problems:
        out.append(Check("hooks", WARN, "; ".join(problems),
                         "install the program, or commit it executable (chmod +x)"))
    else:
        out.append(Check("hooks", OK, f"{len(hooks.commands)} configured, every program found"))
    lock = Path(f"{ctx.db_path}-hooks.lock")
    if lock.exists() and not os.access(lock, os.R_OK):
        out.append(Check("hooks lock", FAIL, f"{lock} is not readable by {os_account()}: "
                         "deliveries lose their order", f"sudo chmod a+r {lock}"))
    if ctx.db_path.exists() and os.access(ctx.db_path, os.R_OK):
        with contextlib.suppress(Exception), ctx.reading() as store:
            since = iso(utcnow() - timedelta(days=1))
            failed = store.scalar("SELECT count(*) FROM hook_deliveries WHERE status IN "
                                  "('failed', 'timed_out', 'lost') AND finished_at > ?",
                                  (since,))
            if failed:
                out.append(Check("hook deliveries", WARN, f"{failed} failed in the last 24 "
                                 "hours", "hotfix hooks --failed"))
    return out


def check_signing(ctx: Context) -> list[Check]:
    """Can this account sign an approval ([approvals] signatures), judged by the allowed
    signers at the checkout's HEAD?"""
    policy = ctx.config.approvals.signatures
    if policy == "off" or ctx.repo is None:
        return []
    try:
        head = gitops.resolve_commit(ctx.repo.toplevel, "HEAD")
        trust = signatures.trust_for(ctx.repo.toplevel, ctx.config.approvals.allowed_signers,
                                     head, head)
    except HotfixError as exc:
        return [Check("signing", WARN, f"cannot read the allowed signers: {exc}")]
    if trust.text is None:
        if policy == "optional":
            return [Check("signing", OK, f"signatures optional; {trust.absent}, so "
                          "approvals are not signed")]
        return [Check("signing", WARN, f'signatures required, but {trust.absent}: nobody '
                      "can approve", f"commit {ctx.config.approvals.allowed_signers} (see "
                      "the README, Signed approvals)")]
    me = signatures.my_principal(ctx)
    try:
        key = signing.choose_key(me, trust.text, trust.where,
                                 configured=signatures.configured_key(ctx),
                                 agent=signing.agent_socket())
    except HotfixError as exc:
        return [Check("signing", WARN, f"{me} cannot sign approvals ({policy}): {exc}",
                      "ssh -A to the bastion with your key in your agent (ssh-add -l shows it)")]
    source = "your agent's key" if key.private_file is None else str(key.private_file)
    return [Check("signing", OK, f"{source} {key.fingerprint} is listed for {me} in "
                  f"{trust.where}")]


def doctor(ctx: Context) -> DoctorReport:
    checks: list[Check] = []
    checks += check_sharing(ctx)
    checks += check_database(ctx)
    checks += check_tool_dirs(ctx)
    checks += check_git(ctx)
    checks += check_terminal()
    checks.append(check_sqlite())
    checks.append(check_clock(ctx))
    checks += check_hooks(ctx)
    checks += check_signing(ctx)
    return DoctorReport(os_account(), tuple(checks))
