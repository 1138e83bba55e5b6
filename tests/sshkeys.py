"""Real SSH keys and a real ssh-agent for the tests that sign.

Keys are generated with ssh-keygen in the test's own temporary folder; the agent is
started by the test with its socket there, and stopped after it. The user's own
agent and ~/.ssh are never used (conftest removes SSH_AUTH_SOCK from every test).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

KEYGEN = shutil.which("ssh-keygen")
AGENT = shutil.which("ssh-agent")
SSH_ADD = shutil.which("ssh-add")


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not gone within ten seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def need_openssh() -> None:
    if KEYGEN is None or AGENT is None or SSH_ADD is None:
        pytest.skip("openssh-client (ssh-keygen, ssh-agent, ssh-add) is not installed")


@dataclass(frozen=True)
class Key:
    path: Path  # the private key file
    public: str  # `type base64 comment`

    @property
    def pub(self) -> Path:
        return Path(f"{self.path}.pub")

    @property
    def blob(self) -> str:
        return self.public.split()[1]

    def fingerprint(self) -> str:
        out = subprocess.run([KEYGEN, "-l", "-E", "sha256", "-f", str(self.pub)],
                             capture_output=True, text=True, check=True).stdout
        return out.split()[1]

    def allowed_line(self, principal: str) -> str:
        key_type, blob = self.public.split()[:2]
        return f"{principal} {key_type} {blob}\n"


def make_key(folder: Path, name: str, passphrase: str = "") -> Key:
    need_openssh()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    subprocess.run([KEYGEN, "-q", "-t", "ed25519", "-N", passphrase, "-C", name,
                    "-f", str(path)], check=True, capture_output=True)
    return Key(path, Path(f"{path}.pub").read_text().strip())


class Agent:
    """ssh-agent in the foreground (-D), its socket in `folder`."""

    def __init__(self, folder: Path) -> None:
        need_openssh()
        folder.mkdir(parents=True, exist_ok=True)
        self.socket = str(folder / "agent.sock")
        self.proc = subprocess.Popen([AGENT, "-D", "-a", self.socket],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("ssh-agent did not start")
            time.sleep(0.02)

    def add(self, key: Key) -> None:
        subprocess.run([SSH_ADD, str(key.path)], check=True, capture_output=True,
                       env={**os.environ, "SSH_AUTH_SOCK": self.socket},
                       stdin=subprocess.DEVNULL)

    def env(self) -> dict[str, str]:
        return {"SSH_AUTH_SOCK": self.socket}

    def stop(self) -> None:
        stop_process(self.proc)
