"""A real sshd on a free port of 127.0.0.1, with its own config, host key and authorized
keys in the team's folder, and a real ssh client to log in as each account."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.accounts import Account, Team, sh
from tests.sshkeys import stop_process

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SSH = shutil.which("ssh")
KEYGEN = shutil.which("ssh-keygen")


def need_ssh() -> None:
    if not os.path.exists(SSHD) or SSH is None or KEYGEN is None:
        pytest.skip("openssh-server and openssh-client are not installed (see .ci/run)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Sshd:
    team: Team
    folder: Path
    port: int
    proc: subprocess.Popen

    def key_of(self, who: Account) -> Path:
        return self.folder / "clients" / who.name

    def argv(self, who: Account, command: str, *, tty: bool = False,
             forward_agent: bool = False) -> list[str]:
        """The ssh client, as a person would type it (plus a throwaway known_hosts)."""
        opts = ["-p", str(self.port), "-i", str(self.key_of(who)),
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", "StrictHostKeyChecking=no",
                "-o", f"UserKnownHostsFile={self.folder / 'known_hosts'}",
                "-o", "LogLevel=ERROR"]
        if tty:
            opts.append("-tt")
        if forward_agent:
            opts.append("-A")
        return [SSH, *opts, f"{who.name}@127.0.0.1", command]

    def run(self, who: Account, command: str, timeout: float = 120,
            env: dict | None = None, agent: str | None = None) -> subprocess.CompletedProcess:
        """`agent`: the socket of an ssh-agent on the client side, forwarded with -A."""
        extra = {**(env or {}), **({"SSH_AUTH_SOCK": agent} if agent else {})}
        return subprocess.run(self.argv(who, command, forward_agent=bool(agent)),
                              capture_output=True, text=True, timeout=timeout,
                              env=self.client_env(extra))

    def client_env(self, extra: dict | None = None) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.folder),
               "LANG": "C.UTF-8"}
        env.update(extra or {})
        return env

    def stop(self) -> None:
        stop_process(self.proc)


def start_sshd(team: Team) -> Sshd:
    """sshd for the team: key logins only, the session's environment as a bastion's
    (PATH finds this checkout's `hotfix`; git reads the team's system config)."""
    need_ssh()
    folder = team.root / "ssh"
    (folder / "clients").mkdir(parents=True)
    (folder / "authorized").mkdir()
    folder.chmod(0o755)
    sh(KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "host_key"))
    for who in (team.alice, team.bob):
        key = folder / "clients" / who.name
        sh(KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", who.name, "-f", str(key))
        shutil.copy(f"{key}.pub", folder / "authorized" / who.name)
        (folder / "authorized" / who.name).chmod(0o644)
    port = free_port()
    path = f"{team.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"
    (folder / "sshd_config").write_text(f"""\
ListenAddress 127.0.0.1
Port {port}
HostKey {folder / 'host_key'}
PidFile {folder / 'sshd.pid'}
AuthorizedKeysFile {folder / 'authorized'}/%u
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowAgentForwarding yes
PermitRootLogin no
X11Forwarding no
PrintMotd no
AcceptEnv LANG COLORTERM
SetEnv PATH={path} GIT_CONFIG_SYSTEM={team.gitconfig} TEXTUAL_ANIMATIONS=none
""")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    with open(folder / "sshd.log", "wb") as log:
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(folder / "sshd_config")],
                                stdout=subprocess.DEVNULL, stderr=log)
    server = Sshd(team, folder, port, proc)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"sshd exited: {(folder / 'sshd.log').read_text()}")
        res = server.run(team.alice, "true", timeout=10)
        if res.returncode == 0:
            return server
        time.sleep(0.2)
    server.stop()
    raise AssertionError(f"cannot log in over ssh: {res.stderr}\n"
                         f"{(folder / 'sshd.log').read_text()}")
