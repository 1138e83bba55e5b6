from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import GIT_ENV, init_repo


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path_factory):
    # never the user's own ssh-agent: a test that signs starts its own (tests/sshkeys.py)
    for k in ("HOTFIX_DB", "HOTFIX_ACTOR", "HOTFIX_DEBUG", "HOTFIX_SIGNING_KEY",
              "SSH_AUTH_SOCK", "SSH_AGENT_PID"):
        monkeypatch.delenv(k, raising=False)
    for k, v in GIT_ENV.items():
        monkeypatch.setenv(k, v)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))


@pytest.fixture
def agent(tmp_path: Path, monkeypatch):
    """A real ssh-agent started for the test (socket in tmp_path), SSH_AUTH_SOCK on it."""
    from tests.sshkeys import Agent

    a = Agent(tmp_path / "agent")
    monkeypatch.setenv("SSH_AUTH_SOCK", a.socket)
    try:
        yield a
    finally:
        a.stop()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh repository with one commit on main."""
    path = init_repo(tmp_path / "repo")
    (path / "README.md").write_text("service\n")
    from tests.helpers import git

    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "initial commit")
    return path


@pytest.fixture
def db_path(repo: Path) -> Path:
    return repo / ".git" / "hotfix" / "hotfix.db"


def pytest_configure(config):
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
