"""Two bastions sharing one history through a real bare git remote: bastion A is the
repository the service was made in, bastion B a clone of the remote; each has its own
database (under its own .git). Approvals are signed (a real ssh-agent, keys made with
ssh-keygen in the test's folder, allowed signers committed in the repository)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import CONFIG_FOR_TESTS, ServiceRepo, git, make_service_repo
from tests.integration.release_helpers import CLEAN_FIX, Release, commit_fix, document
from tests.sshkeys import Key, make_key


@dataclass
class Bastions:
    remote: Path
    a: Release
    b: Release
    keys: dict[str, Key]

    def sync(self, rel: Release, *args: str, actor: str = "alice"):
        return rel.ok("sync", *args, "--json", actor=actor).json()


def clone(remote: Path, path: Path) -> Path:
    git(remote.parent, "clone", "-q", str(remote), str(path))
    for k, v in (("user.name", "Test Author"), ("user.email", "author@example.com"),
                 ("commit.gpgsign", "false"), ("tag.gpgsign", "false")):
        git(path, "config", k, v)
    return path


def two_bastions(tmp_path: Path, policy: str = "required", extra_config: str = "") -> Bastions:
    keys = {n: make_key(tmp_path / "keys", n) for n in ("bob", "carol", "mallory")}
    srv = tmp_path / "srv"
    srv.mkdir()
    config = (CONFIG_FOR_TESTS + f'\n[approvals]\nsignatures = "{policy}"\n'
              + f'\n[environments.production]\ndriver = "local-symlink"\npath = "{srv}"\n'
              + f'\n[environments.staging]\ndriver = "local-symlink"\npath = "{srv}-staging"\n'
              + "requires_approval = false\n" + extra_config)
    extra = {".hotfix/allowed_signers": "".join(keys[n].allowed_line(n)
                                               for n in ("bob", "carol"))}
    a = Release(make_service_repo(tmp_path / "a", config=config, extra=extra), srv)
    (tmp_path / "srv-staging").mkdir()
    a.ok("incident", "open", "--title", "Checkout totals wrong", "--sev", "1")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(a.path, "remote", "add", "origin", str(remote))
    git(a.path, "push", "-q", "origin", "main", "--tags")
    b_path = clone(remote, tmp_path / "b")
    b = Release(ServiceRepo(b_path, a.svc.fix, a.svc.conflicting, a.svc.merge, a.svc.v141), srv)
    return Bastions(remote, a, b, keys)


def submitted(rel: Release, key: str = "HF-1") -> str:
    rel.ok("start", "--incident", "INC-1", "--title", "Round tax to cents")
    sha = commit_fix(rel, CLEAN_FIX, key)
    document(rel, key)
    rel.ok("submit", key)
    return sha


def locked_apart(t: Bastions) -> None:
    """Sites a and b each lock staging before seeing the other's lock, then both sync."""
    t.sync(t.a, "--site", "a")
    t.sync(t.b, "--site", "b")
    t.a.ok("lock", "--env", "staging", "--reason", "db migration")
    t.b.ok("lock", "--env", "staging", "--reason", "cache flush", actor="bob")
    for rel in (t.a, t.b, t.a):
        t.sync(rel)


def rows(rel: Release, sql: str, args=()) -> list[tuple]:
    conn = sqlite3.connect(rel.db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def history(rel: Release) -> list[tuple]:
    """Every event with its site and place in its site's chain, in the merged order."""
    return [(e["at"], e["site"], e["seq"], e["action"], e["key"], e["hash"])
            for e in rel.ok("audit", "log", "--json").json()["items"]]
