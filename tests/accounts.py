"""Real Unix accounts for the tests where accounts matter.

A `Team` is a folder of its own (under the system's temporary directory, readable by
the accounts), two accounts made with `useradd` and no git identity, a group the
README's bastion steps create, and a way to run the `hotfix` of this checkout as each
account. Everything is removed afterwards: processes, accounts, group, folder.

The accounts cannot read the test runner's interpreter when it lives in a private home
(pyenv under /root), so the Team builds a small virtual environment from an interpreter
they can run, of the same Python version, that sees this checkout and its packages
(copied into the team's folder when they are not readable by others).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: the test creates Unix accounts with useradd")
    for tool in ("useradd", "userdel", "groupadd", "groupdel", "usermod"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


def sh(*argv: str, env: dict | None = None, cwd: Path | None = None,
       check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(argv), capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def _open_to_others(path: Path) -> bool:
    """Can an account that is neither owner nor in the group read `path` (every parent
    searchable, the thing itself readable)?"""
    path = path.resolve()
    for parent in path.parents:
        if not parent.stat().st_mode & stat.S_IXOTH:
            return False
    return bool(path.stat().st_mode & stat.S_IROTH)


def _shared_interpreter() -> str:
    want = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [os.path.realpath(sys.executable)]
    for folder in ("/usr/bin", "/usr/local/bin", "/bin"):
        candidates.append(os.path.join(folder, want))
    for c in candidates:
        if os.path.exists(c) and _open_to_others(Path(c)):
            return c
    pytest.skip(f"no {want} interpreter other accounts can run (the tests' own is "
                f"{sys.executable})")


@dataclass
class Account:
    name: str
    uid: int
    gid: int
    home: Path


@dataclass
class Team:
    root: Path
    group: str
    alice: Account
    bob: Account
    venv: Path
    gitconfig: Path  # what git reads as its system config, for the accounts
    group_made: bool = False

    @property
    def hotfix(self) -> Path:
        return self.venv / "bin" / "hotfix"

    @property
    def gid(self) -> int:
        import grp

        return grp.getgrnam(self.group).gr_gid

    def env_for(self, who: Account, extra: dict | None = None) -> dict[str, str]:
        env = {"HOME": str(who.home), "USER": who.name, "LOGNAME": who.name,
               "PATH": f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
               "LANG": "C.UTF-8", "GIT_CONFIG_SYSTEM": str(self.gitconfig),
               "TEXTUAL_ANIMATIONS": "none"}
        env.update(extra or {})
        return env

    def run(self, who: Account, *args: str, cwd: Path, extra_env: dict | None = None,
            timeout: float = 120, in_group: bool = True) -> subprocess.CompletedProcess:
        """`hotfix args…` as `who`, as a non-interactive login would run it: umask 0022,
        the account's own groups (from /etc/group), no git identity."""
        import grp

        groups = [g.gr_gid for g in grp.getgrall() if who.name in g.gr_mem] if in_group else []
        return subprocess.run(
            [str(self.hotfix), *args], cwd=cwd, env=self.env_for(who, extra_env),
            user=who.uid, group=who.gid, extra_groups=groups, umask=0o022,
            capture_output=True, text=True, timeout=timeout)


def _make_venv(root: Path) -> Path:
    """A venv the accounts can run, seeing this checkout and the tests' packages."""
    venv = root / "venv"
    sh(_shared_interpreter(), "-m", "venv", "--without-pip", str(venv))
    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})
                ["purelib"])
    ours = [Path(p) for p in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}]
    lines = []
    code = REPO_ROOT
    if not _open_to_others(REPO_ROOT / "hotfix_tui" / "__init__.py"):
        code = root / "src"
        shutil.copytree(REPO_ROOT / "hotfix_tui", code / "hotfix_tui",
                        ignore=shutil.ignore_patterns("__pycache__"))
    lines.append(str(code))
    for i, lib in enumerate(ours):
        if _open_to_others(lib):
            lines.append(str(lib))
        else:
            copy = root / f"lib{i}"
            shutil.copytree(lib, copy, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "pip", "_pytest",
                                                          "pytest*", "hypothesis*", "ruff*"))
            lines.append(str(copy))
    (site / "hotfix-checkout.pth").write_text("\n".join(lines) + "\n")
    launcher = venv / "bin" / "hotfix"
    launcher.write_text(f"#!{venv / 'bin' / 'python'}\n"
                        "from hotfix_tui.cli import main\nmain()\n")
    launcher.chmod(0o755)
    return venv


def _useradd(name: str, home: Path, full_name: str) -> Account:
    sh("useradd", "--user-group", "--create-home", "--home-dir", str(home),
       "--shell", "/bin/bash", "--comment", full_name, name)
    sh("usermod", "--password", "*", name)  # no password, but not locked: ssh keys work
    entry = pwd.getpwnam(name)
    return Account(name, entry.pw_uid, entry.pw_gid, home)


def _kill_all_of(name: str) -> None:
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    for _ in range(50):
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()
                and _uid_of(int(p)) == uid]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def _uid_of(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def make_team():
    """Yields a Team (its group is made by the README's steps, see bastion_setup); the
    caller's fixture cleans up by closing the generator."""
    need_root()
    tag = uuid.uuid4().hex[:6]
    root = Path(tempfile.mkdtemp(prefix=f"hotfix-team-{tag}-"))
    root.chmod(0o755)
    group = f"hfteam{tag}"
    names = (f"hfa{tag}", f"hfb{tag}")
    made: list[str] = []
    try:
        (root / "home").mkdir(mode=0o755)
        alice = _useradd(names[0], root / "home" / names[0], "Alice Example")
        made.append(alice.name)
        bob = _useradd(names[1], root / "home" / names[1], "Bob Example")
        made.append(bob.name)
        gitconfig = root / "gitconfig"
        gitconfig.write_text("")
        gitconfig.chmod(0o644)
        venv = _make_venv(root)
        yield Team(root, group, alice, bob, venv, gitconfig)
    finally:
        for name in made:
            _kill_all_of(name)
            sh("userdel", name, check=False)
            sh("groupdel", name, check=False)  # the user's own group, if left
        sh("groupdel", group, check=False)
        shutil.rmtree(root, ignore_errors=True)


def root_git_env(team: Team) -> dict[str, str]:
    """Root acting as the admin: git with the team's system config and an identity."""
    from tests.helpers import GIT_ENV

    env = {**os.environ, **GIT_ENV, "GIT_CONFIG_SYSTEM": str(team.gitconfig)}
    env.pop("GIT_CONFIG_NOSYSTEM", None)
    return env


def readme_bastion_steps() -> list[str]:
    """The shell lines of the README's bastion set-up block, comments dropped."""
    text = (REPO_ROOT / "README.md").read_text()
    marker = text.index("<!-- bastion-setup:")
    block = text[text.index("```sh\n", marker) + 6:]
    block = block[:block.index("```")]
    lines = []
    for line in block.splitlines():
        code = line.split("  #", 1)[0].strip()
        if code:
            lines.append(code)
    return lines


def bastion_setup(team: Team, origin: Path, skip: tuple[str, ...] = ()) -> Path:
    """Run the README's bastion steps as root, for this team's accounts and a new folder;
    returns the shared clone. `skip`: lines containing any of these are left out (to
    show what goes wrong without them). The group is made once per team."""
    srv = Path(tempfile.mkdtemp(prefix="srv-", dir=team.root))
    srv.rmdir()
    if team.group_made:
        skip = (*skip, "groupadd", "usermod")
    team.group_made = True
    names = {"/srv/hotfix": str(srv), "https://git.example.com/shop.git": str(origin),
             "oncall": team.group, "alice": team.alice.name, "bob": team.bob.name}
    for line in readme_bastion_steps():
        if any(s in line for s in skip):
            continue
        for old, new in names.items():
            line = line.replace(old, new)
        sh("bash", "-euo", "pipefail", "-c", line, env=root_git_env(team))
    return srv / "shop"
