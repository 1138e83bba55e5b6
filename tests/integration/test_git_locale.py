"""git speaks English to hotfix whatever the user's language: the checks that read git's
messages (a repository git refuses for its owner, safe.directory) must not be fooled by a
translation. Real git with its translations, a real repository owned by another account
(root is needed to give it away)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from hotfix_tui import gitaccess, gitops
from hotfix_tui.core.errors import GitError
from tests.helpers import commit_file, git, init_repo

GERMAN = {"LANGUAGE": "de", "LC_ALL": "C.UTF-8"}


def _git_speaks_german(tmp_path: Path) -> bool:
    proc = subprocess.run(["git", "-C", str(tmp_path / "nowhere"), "status"],
                          env={**os.environ, **GERMAN}, capture_output=True, text=True)
    return proc.returncode != 0 and not proc.stderr.startswith("fatal:")


@pytest.fixture
def someone_elses(tmp_path, monkeypatch):
    """A repository and a linked worktree that belong to another account (nobody), with
    git's messages in German for this process and its children."""
    if os.geteuid() != 0:
        pytest.skip("giving a repository to another account needs root")
    if not _git_speaks_german(tmp_path):
        pytest.skip("git has no German translation installed here")
    repo = init_repo(tmp_path / "r")
    commit_file(repo, "a.txt", "a\n", "first")
    git(repo, "worktree", "add", "-q", "-b", "hotfix/1", str(tmp_path / "w"))
    for root, dirs, files in os.walk(tmp_path):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), 65534, 65534)
    monkeypatch.delenv("SUDO_UID", raising=False)
    for key, value in GERMAN.items():
        monkeypatch.setenv(key, value)
    return repo, tmp_path / "w"


def test_a_repository_git_refuses_is_not_trusted_in_another_language(someone_elses):
    _, worktree = someone_elses
    assert gitaccess.trust_args(worktree) == []  # no safe.directory for a refused repo


def test_git_refusing_a_repository_is_said_as_what_it_is_in_another_language(someone_elses):
    repo, _ = someone_elses
    with pytest.raises(GitError, match="belongs to"):
        gitops.run_git(repo, "rev-parse", "--verify", "--quiet", "HEAD", check=False)
