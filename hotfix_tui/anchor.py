"""The audit chain's head, anchored in the git repository.

The database holds the chain; whoever can write the file can delete its newest events
or all of them. So after every change that extends the chain, its head (the sequence
number and hash of the newest event) is recorded outside the file, in the repository:
`refs/hotfix/audit/<chain>` points at a commit whose message is that head as JSON, its
parent the previous anchor (an append-only history, with a reflog), `<chain>` being the
first 16 hex digits of the chain's first event (so every database, and later every
site sharing the repository, has its own ref). `audit verify` checks that the anchored
event is still there, with the anchored hash.

Writers race: each moves the ref by compare-and-swap, only ever forward, and retries
when another writer moved it first. A writer that cannot reach the repository (none,
or no write access) leaves the anchor behind; the events after it are reported as not
yet anchored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .clock import iso, utcnow
from .core.errors import HotfixError
from .store.db import Store

HOST = os.uname().nodename  # what socket.gethostname() answers
REF_PREFIX = "refs/hotfix/audit/"
SUBJECT = "hotfix audit head"
_IDENTITY = {"GIT_AUTHOR_NAME": "hotfix-tui", "GIT_COMMITTER_NAME": "hotfix-tui"}
_EMPTY_TREES: dict[str, str] = {}
# git's empty tree, in sha1 and sha256 repositories: an anchor commit made on it can be
# followed by the next one on the same tree without asking git for it again
KNOWN_EMPTY_TREES = frozenset({
    "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321"})


@dataclass(frozen=True)
class Anchor:
    """The audit chain's head as last published to git: which ref and commit hold it."""

    ref: str
    commit: str
    chain: str
    seq: int
    hash: str
    db: str
    at: str
    tree: str = ""  # the anchor commit's tree, when read with it

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "commit": self.commit, "seq": self.seq, "hash": self.hash,
                "at": self.at}


def run_git(cwd: Path, *args: str, **kwargs):
    """gitaccess.run_git, loaded when an anchor is first read or moved: every command's
    store carries the anchoring hook, and a read never fires it."""
    from .gitaccess import run_git as run

    return run(cwd, *args, **kwargs)


def chain_id(first_hash: str) -> str:
    return first_hash[:16]


def ref_for(chain: str) -> str:
    return REF_PREFIX + chain


def _parse(ref: str, commit: str, message: str) -> Anchor | None:
    body = message.split("\n\n", 1)[-1].strip()
    try:
        doc = json.loads(body)
        return Anchor(ref, commit, str(doc["chain"]), int(doc["seq"]), str(doc["hash"]),
                      str(doc.get("db", "")), str(doc.get("at", "")))
    except (ValueError, KeyError, TypeError):
        return None


def read(cwd: Path, chain: str) -> Anchor | None:
    """The anchor of `chain`, or None when there is none (or it is not one of ours).
    `cwd` is a working tree of the repository (git checks who owns that, as it does for
    every other command; the refs are the repository's, shared by all its worktrees)."""
    ref = ref_for(chain)
    # one command for the commit, its tree and its message (a ref that names anything but
    # a commit is peeled the long way below)
    listed = run_git(cwd, "for-each-ref", "--format=%(refname)%00%(objecttype)%00"
                            "%(objectname)%00%(tree)%00%(contents)%00%00", ref, check=False)
    for record in listed.out.split("\0\0\n") if listed.ok else ():
        name, kind, commit, tree, message = (record.lstrip("\n").split("\0") + [""] * 5)[:5]
        if name == ref and kind == "commit":
            found = _parse(ref, commit, message)
            return replace(found, tree=tree) if found is not None else None
    if listed.ok and ref not in listed.out:
        return None
    res = run_git(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}",
                         check=False)
    if not res.ok:
        return None
    commit = res.out.strip()
    msg = run_git(cwd, "cat-file", "commit", commit, check=False)
    if not msg.ok:
        return None
    return _parse(ref, commit, msg.out.split("\n\n", 1)[-1])


def all_anchors(cwd: Path) -> list[Anchor]:
    """Every chain anchored in the repository."""
    res = run_git(cwd, "for-each-ref", "--format=%(refname)", REF_PREFIX,
                         check=False)
    out = []
    for ref in res.out.split():
        found = read(cwd, ref.removeprefix(REF_PREFIX))
        if found is not None:
            out.append(found)
    return out


def _empty_tree(cwd: Path) -> str:
    key = str(cwd)
    if key not in _EMPTY_TREES:  # sha1 and sha256 repositories differ
        _EMPTY_TREES[key] = run_git(cwd, "hash-object", "-w", "-t", "tree",
                                           os.devnull).out.strip()
    return _EMPTY_TREES[key]


def catch_up(store: Store, cwd: Path, tries: int = 5) -> Anchor | None:
    """Move the anchor forward to the chain's head as it is now; returns the anchor."""
    from .store import audit

    first = audit.first(store)
    head = audit.head(store)
    if first is None or head is None:
        return None
    chain = chain_id(first["hash"])
    ref = ref_for(chain)
    db = str(Path(store.path).resolve())
    for _ in range(tries):
        current = read(cwd, chain)
        if current is not None:
            broken = _off_anchor(store, current)
            if broken:  # never paper over it: the anchor stays where the evidence is
                raise HotfixError(f"{broken}; the anchor stays at event {current.seq} "
                                  "(hotfix audit verify)")
            if current.seq >= head["id"]:
                return current  # another writer got there (or further) first
        doc = {"chain": chain, "seq": head["id"], "hash": head["hash"], "db": db,
               "at": iso(utcnow()), "host": HOST}
        message = f"{SUBJECT}: event {head['id']}\n\n{json.dumps(doc, sort_keys=True)}\n"
        email = f"hotfix@{HOST}"
        env = {**_IDENTITY, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_EMAIL": email}
        tree = current.tree if current is not None and current.tree in KNOWN_EMPTY_TREES \
            else _empty_tree(cwd)
        args = ["commit-tree", tree, "-m", message]
        if current is not None:
            args += ["-p", current.commit]
        commit = run_git(cwd, *args, env=env).out.strip()
        old = current.commit if current is not None else "0" * len(commit)
        moved = run_git(cwd, "update-ref", "--create-reflog", "-m",
                               f"{SUBJECT}: event {head['id']}", ref, commit, old,
                               check=False)
        if moved.ok:
            return _parse(ref, commit, message)
    return read(cwd, chain)


def _off_anchor(store: Store, current: Anchor) -> str:
    """Why the chain no longer extends the anchored head ('' when it does)."""
    row = store.one("SELECT hash FROM audit_events WHERE id = ?", (current.seq,))
    if row is None:
        return f"event {current.seq}, the anchored head, is gone from the database"
    if row["hash"] != current.hash:
        return f"event {current.seq} is not the event anchored: the chain was rewritten"
    prev = current.hash
    for r in store.all("SELECT id, prev_hash, hash FROM audit_events WHERE id > ? "
                       "ORDER BY id", (current.seq,)):
        if r["prev_hash"] != prev:
            return f"event {r['id']} does not follow the anchored head"
        prev = r["hash"]
    return ""


def install(store: Store, cwd: Path, warn=None) -> None:
    """Anchor after every commit of `store` that extended the chain."""

    def after_commit(s: Store) -> None:
        try:
            catch_up(s, cwd)
        except Exception as exc:  # the change is committed: never report it as failed
            if warn is not None:
                warn(f"the audit chain's head could not be recorded in the repository: {exc}")

    if not any(getattr(fn, "anchors", None) == str(cwd) for fn in store.after_commit):
        after_commit.anchors = str(cwd)  # type: ignore[attr-defined]
        store.after_commit.append(after_commit)


def is_worktree(path: str | os.PathLike | None) -> bool:
    return bool(path) and Path(path, ".git").exists()
