"""Test helpers: real git repositories, the real CLI, byte snapshots of files."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
import unicodedata
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str, check: bool = True) -> str:
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


def init_repo(path: Path, branch: str = "main") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    git(path, "config", "user.name", "Test Author")
    git(path, "config", "user.email", "author@example.com")
    git(path, "config", "commit.gpgsign", "false")
    git(path, "config", "tag.gpgsign", "false")
    return path


def commit_file(repo: Path, rel: str, content: str, message: str) -> str:
    p = repo / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(content)
    git(repo, "add", "--", rel)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def wait_for(predicate, what: str = "condition", timeout: float = 30.0, every: float = 0.05):
    """Poll `predicate()` until it returns something true (returned), or fail after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what} ({timeout:g}s)")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)

    def items(self) -> list:
        """The `items` of a collection document (`list`, `status`, `deploys`, …)."""
        doc = self.json()
        assert doc["schema_version"] == 1, doc
        return doc["items"]


def run(args: list[str], cwd: Path | None = None, env: dict | None = None) -> Result:
    """Run the real CLI entry point in this process (fast), capturing its output."""
    from hotfix_tui.cli import main

    old_cwd = os.getcwd()
    saved = {}
    for k, v in (env or {}).items():
        saved[k] = os.environ.get(k)
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    out, err = io.StringIO(), io.StringIO()
    code = 0
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        if cwd is not None:
            os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        # what one command set for its process (shared mode's umask) ends with it
        from hotfix_tui import sharing

        sharing.activate(None)
        os.umask(umask)
        os.chdir(old_cwd)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return Result(code, out.getvalue(), err.getvalue())


def run_proc(args: list[str], cwd: Path | None = None, env: dict | None = None,
             timeout: float = 60) -> Result:
    """Run `python -m hotfix_tui` as a real subprocess."""
    full_env = {**os.environ, **GIT_ENV, **(env or {})}
    full_env = {k: v for k, v in full_env.items() if v is not None}
    proc = subprocess.run([sys.executable, "-m", "hotfix_tui", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def unsafe_in(text: str) -> list[str]:
    """Every character of `text` a terminal obeys or hides (Unicode Cc, Cf, Zl, Zp, Cs),
    but newline and tab. Computed from Unicode's own tables, not from the product."""
    return [f"U+{ord(c):04X}" for c in text if c not in "\n\t"
            and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs")]


def assert_one_line_error(res: Result, code: int = 1, contains: str | None = None) -> None:
    assert res.code == code, (res.code, res.out, res.err)
    lines = [ln for ln in res.err.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert len(lines) == 1, res.err
    assert lines[0].startswith("error: "), res.err
    assert "Traceback" not in res.err
    if contains is not None:
        assert contains.lower() in lines[0].lower(), lines[0]


CONFIG_FOR_TESTS = """\
[identity]
allow_override = true
sandbox = true  # one OS account plays alice and bob

[scope]
max_files = 5
max_lines = 50
checklist = ["Root cause understood", "Rollback plan tested or obvious"]
"""


@dataclass
class ServiceRepo:
    path: Path
    fix: str  # a fix on main for a bug present in v1.4.1
    conflicting: str  # a commit on main that conflicts with v1.4.1
    merge: str  # a merge commit on main
    v141: str

    def cli(self, *args: str, actor: str | None = "alice", **kw) -> Result:
        env = {"HOTFIX_ACTOR": actor} if actor else {"HOTFIX_ACTOR": None}
        return run(list(args), cwd=self.path, env={**env, **kw.pop("env", {})})


def make_service_repo(path: Path, config: str = CONFIG_FOR_TESTS,
                      extra: dict[str, str] | None = None) -> ServiceRepo:
    """A small service with releases v1.4.0 and v1.4.1, a fix on main for a bug in
    v1.4.1, a commit that conflicts with v1.4.1, and a merge. `extra` files (those under
    ops/ executable) are part of the first commit, so every release carries them."""
    repo = init_repo(path)
    (repo / ".hotfix.toml").write_text(config)
    for rel, content in (extra or {}).items():
        p = repo / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
        if rel.startswith("ops/"):
            p.chmod(0o755)
    git(repo, "add", "--all")
    git(repo, "commit", "-q", "-m", "Add hotfix config and ops scripts")
    commit_file(repo, "app/checkout.py",
                "def total(items):\n    return sum(i.price for i in items)\n\n"
                "def tax(amount):\n    return amount * 0.2\n", "Checkout totals")
    commit_file(repo, "app/cart.py", "def add(cart, item):\n    cart.append(item)\n",
                "Cart basics")
    git(repo, "tag", "-a", "v1.4.0", "-m", "release 1.4.0")
    commit_file(repo, "app/cart.py",
                "def add(cart, item):\n    cart.append(item)\n    return cart\n",
                "Return the cart")
    git(repo, "tag", "-a", "v1.4.1", "-m", "release 1.4.1")
    v141 = git(repo, "rev-parse", "v1.4.1^{commit}")
    fix = commit_file(repo, "app/checkout.py",
                      "def total(items):\n    return sum(i.price * i.qty for i in items)\n\n"
                      "def tax(amount):\n    return amount * 0.2\n",
                      "Fix checkout total ignoring quantity")
    commit_file(repo, "app/cart.py",
                "def add(cart, item, qty=1):\n    cart.extend([item] * qty)\n    return cart\n",
                "Rework cart add")
    conflicting = commit_file(repo, "app/cart.py",
                              "def add(cart, item, qty=1):\n    cart.extend([item] * qty)\n"
                              "    return list(cart)\n", "Return a copy of the cart")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_file(repo, "app/search.py", "def search(q):\n    return []\n", "Search stub")
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge feature", "feature")
    merge = git(repo, "rev-parse", "HEAD")
    return ServiceRepo(repo, fix, conflicting, merge, v141)


def query_plans(monkeypatch, repo: Path, read, about: str) -> list[list[str]]:
    """Run `read()` and return the query plan (EXPLAIN QUERY PLAN details) of each
    statement it ran whose SQL mentions `about`, asked of the repository's database."""
    import sqlite3

    from hotfix_tui.store.db import Store

    statements: list[tuple[str, tuple]] = []
    execute = Store.execute

    def recorded(self, sql, params=()):
        statements.append((sql, params))
        return execute(self, sql, params)

    monkeypatch.setattr(Store, "execute", recorded)
    try:
        read()
    finally:
        monkeypatch.undo()
    conn = sqlite3.connect(repo / ".git" / "hotfix" / "hotfix.db")
    try:
        return [[detail for *_, detail in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
                for sql, params in statements if about in sql]
    finally:
        conn.close()
