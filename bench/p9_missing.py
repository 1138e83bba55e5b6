"""P9: `hotfix missing` over 4 branches that diverge by thousands of commits, against 4×
`git cherry` on the same branches.

The repository (git fast-import): a release v1.0.0; main `divergence` commits past it,
each editing one or two of 200 modules (one module in twenty edits is the hot one the
hotfix touches too); release/2.1, 2.2 and 2.3 forked from main late and carrying commits
of their own, so that each of the 4 branches is `divergence` commits from the base. The
hotfix HF-1 (branch hotfix/1.0.1 from v1.0.0) has two commits: a `cherry-pick -x` of a
fix from the middle of main (every branch has it by ancestry) and a fix of its own that no
branch has, so every branch takes the whole path: ancestry, trailers, patch-ids.

The fair comparison is in-process: services.missing(ctx, "HF-1") (read the hotfix, check
the branches exist, then per branch ancestry, trailers and patch-ids; every git call a
subprocess) with its per-process patch cache emptied first, as in a fresh `hotfix missing`
process, against 4 `git cherry <branch> <hotfix> <base>` subprocesses started from
Python. Both are warmed up once and then alternate; `missing` with the cache kept (as in
the console, which asks again and again) is timed too, for information.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

from common import alternate, git, median
from datagen import COMMITS, COMPONENTS, SEED, _blob, _file_text, _words, make_scope_db

from hotfix_tui import gitops, patchids, services

BRANCHES = ("main", "release/2.1", "release/2.2", "release/2.3")
N_FILES = 200
HOT = 7  # the module the hotfix and one commit in twenty on the branches touch
CONFIG = """\
[hotfix]
forward_port = ["main", "release/2.1", "release/2.2", "release/2.3"]
"""


class _Writer:
    """A git fast-import stream: commits that edit one line of a module each."""

    def __init__(self, rng: random.Random, texts: list[list[bytes]]) -> None:
        self.rng = rng
        self.out = bytearray()
        self.mark = 0
        self.when = 1_760_000_000
        self.texts = texts

    def commit(self, ref: str, parent: str | None, message: str,
               edits: list[tuple[int, int, bytes]], texts: list[list[bytes]],
               extra: bytes = b"") -> int:
        ops = bytearray(extra)
        for f, line, text in edits:
            lines = texts[f]
            lines[line % len(lines)] = text
            self.mark += 1
            self.out += _blob(b"\n".join(lines), self.mark)
            ops += b"M 100644 :%d %s\n" % (self.mark, _path(f).encode())
        self.mark += 1
        self.when += 600
        msg = message.encode()
        self.out += b"commit %s\nmark :%d\n" % (ref.encode(), self.mark)
        self.out += b"author Bench <b@example.com> %d +0000\n" % self.when
        self.out += b"committer Bench <b@example.com> %d +0000\n" % self.when
        self.out += b"data %d\n%s\n" % (len(msg), msg)
        if parent:
            self.out += b"from %s\n" % parent.encode()
        self.out += ops + b"\n"
        return self.mark

    def work(self, ref: str, parent: str, n: int, texts: list[list[bytes]]) -> int:
        """One ordinary commit on `ref`: one or two modules, the hot one now and then."""
        files = [HOT] if n % 20 == 0 else self.rng.sample(range(N_FILES), self.rng.randint(1, 2))
        edits = [(f, self.rng.randrange(2, 60), b"    value = %d  # %s change %d" % (
            self.rng.randrange(1000), ref.encode(), n)) for f in files]
        return self.commit(ref, parent, COMMITS[n % len(COMMITS)].format(**_words(self.rng))
                           + f" (#{n})", edits, texts)


def _path(f: int) -> str:
    return f"src/{COMPONENTS[f % len(COMPONENTS)].replace(' ', '_')}/mod_{f}.py"


def make_repo(path: Path, divergence: int) -> dict:
    rng = random.Random(SEED + 7)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    texts = [_file_text(rng, i).split(b"\n") for i in range(N_FILES)]
    w = _Writer(rng, texts)
    w.mark += 1
    w.out += _blob(CONFIG.encode(), w.mark)
    base = w.commit("refs/heads/main", None, "Release 1.0.0",
                    [(f, 0, texts[f][0]) for f in range(N_FILES)], texts,
                    b"M 100644 :%d .hotfix.toml\n" % w.mark)
    w.out += b"reset refs/tags/v1.0.0\nfrom :%d\n\n" % base
    base_texts = [list(t) for t in texts]
    own = {"release/2.1": divergence // 10, "release/2.2": divergence // 20,
           "release/2.3": max(1, divergence // 40)}
    forks = {name: divergence - n for name, n in own.items()}
    parent = f":{base}"
    fix = None
    for n in range(1, divergence + 1):
        if n == divergence // 2:
            fix = w.commit("refs/heads/main", parent, "Guard against a null total in the hot "
                           "path", [(HOT, 3, b"    value = value or 0  # fixed")], texts)
            mark = fix
        else:
            mark = w.work("refs/heads/main", parent, n, texts)
        parent = f":{mark}"
        for name in (name for name, at in forks.items() if at == n):
            branch_texts = [list(t) for t in texts]
            tip = parent
            for k in range(own[name]):
                tip = f":{w.work(f'refs/heads/{name}', tip, 100_000 + n + k, branch_texts)}"
    w.out += b"reset refs/tags/bench-fix\nfrom :%d\n\n" % fix
    git(path, "fast-import", "--quiet", stdin=bytes(w.out))
    base_sha = git(path, "rev-parse", "v1.0.0^{commit}")
    fix_sha = git(path, "rev-parse", "bench-fix")
    git(path, "tag", "-d", "bench-fix")
    # the hotfix: the fix picked with -x onto the release, then a fix of its own
    w2 = _Writer(rng, base_texts)
    first = w2.commit("refs/heads/hotfix/1.0.1", base_sha, "Guard against a null total in "
                      f"the hot path\n\n(cherry picked from commit {fix_sha})\n",
                      [(HOT, 3, b"    value = value or 0  # fixed")], base_texts)
    w2.commit("refs/heads/hotfix/1.0.1", f":{first}", "Clamp the hot path to the limit",
              [(HOT, 12, b"    value = min(value, limit)  # hotfix")], base_texts)
    git(path, "fast-import", "--quiet", stdin=bytes(w2.out))
    git(path, "reset", "-q", "--hard", "main")
    head = git(path, "rev-parse", "hotfix/1.0.1")
    return {"base": base_sha, "head": head, "branch": "hotfix/1.0.1", "fix": fix_sha,
            "divergence": {b: int(git(path, "rev-list", "--count", f"{base_sha}..{b}"))
                           for b in BRANCHES}}


def make_db(path: Path, repo: Path, info: dict) -> None:
    path.unlink(missing_ok=True)
    make_scope_db(path, repo, info)


def _cherry(repo: Path, head: str, base: str) -> int:
    marks = 0
    for b in BRANCHES:
        out = subprocess.run(["git", "cherry", f"refs/heads/{b}", head, base], cwd=repo,
                             capture_output=True, check=True).stdout
        marks += out.count(b"\n")
    return marks


def measure(repo: Path, db: Path, info: dict, runs: int) -> dict:
    ctx = services.open_context(repo=repo, db=db)
    commands: list[gitops.CommandRecord] = []
    stop = services.observe_commands(commands.append)
    try:
        report = services.missing(ctx, "HF-1")
    finally:
        stop()
    states = [(b.branch, b.state, [c.verdict.evidence for c in b.checks])
              for b in report.branches]
    want = [(b, "missing", ["ancestry", None]) for b in BRANCHES]
    if states != want:
        raise RuntimeError(f"missing answered {states}, expected {want}")
    _cherry(repo, info["head"], info["base"])

    def cold() -> None:  # as a fresh `hotfix missing` process: no patch computed yet
        patchids._PATCHES.clear()
        services.missing(ctx, "HF-1")

    missing_t, cherry_t, warm_t = alternate(
        runs, cold, lambda: _cherry(repo, info["head"], info["base"]),
        lambda: services.missing(ctx, "HF-1"))
    return {
        "value": median(missing_t), "baseline": median(cherry_t),
        "ratio": median(missing_t) / median(cherry_t),
        "missing_s": missing_t, "cherry_s": cherry_t, "warm_s": warm_t,
        "divergence": info["divergence"], "git_commands": len(commands),
    }
