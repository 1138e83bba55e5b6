"""P7: CLI reads against `python -c "import click, sqlite3"`; P8: `hotfix start` + `hotfix
pick` against `git worktree add` + `git cherry-pick -x` of the same commit.

Both run the real `hotfix` executable (the console script next to sys.executable) as a
subprocess, as a user or a script does, on a project made here:

- a repository of `files` files (one commit, `git fast-import`) tagged `v1.0.0`, then
  `main` 40 commits past it, one of which is the fix (it edits one module);
- `.hotfix.toml` with staging and production and `forward_port = ["main"]`, the
  database made by `hotfix init`, an open SEV1 (`hotfix incident open`), and a few
  hotfixes already started and picked (so the reads have something to read and `show`
  reads a hotfix whose branch and worktree are real).

P7 times each read (`list --json`, `show HF-1 --json`, `status --json`, `incident list
--json`, and `history QUERY --json` where the command exists) and the baseline, taking
turns, median of `runs`. P8 times `hotfix start --incident INC-1 --title …` followed by
`hotfix pick HF-n <fix>` against `git worktree add -b B PATH v1.0.0` followed by
`git -C PATH cherry-pick -x <fix>`, taking turns; each run makes a new hotfix (or
branch), as each real one does. The git processes each `hotfix` command starts are
counted with GIT_TRACE (one `trace: built-in` or `trace: exec` line per git process).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import datagen
from common import GIT_ENV, child_env, git, median

CONFIG = """\
[hotfix]
forward_port = ["main"]

[environments.staging]
deploy = ["./ops/deploy.sh", "staging", "{version}"]

[environments.production]
deploy = ["./ops/deploy.sh", "production", "{version}"]
"""
READS = (("list --json", ["list", "--json"]), ("show --json", ["show", "HF-1", "--json"]),
         ("status --json", ["status", "--json"]),
         ("incident list --json", ["incident", "list", "--json"]),
         ("history QUERY --json", ["history", "fix", "--json"]))
PREPARED_HOTFIXES = 3


def hotfix_exe() -> str:
    return str(Path(sys.executable).with_name("hotfix"))


def make_project(path: Path, files: int) -> dict:
    """The repository, its config and database, an incident and a few hotfixes."""
    rng = random.Random(datagen.SEED + 8)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    paths = [f"src/{datagen.COMPONENTS[i % len(datagen.COMPONENTS)].replace(' ', '_')}/"
             f"pkg{(i // 30) % 40}/mod_{i}.py" for i in range(files)]
    texts = [datagen._file_text(rng, i) for i in range(files)]
    out = bytearray()
    for mark, text in enumerate(texts, 1):
        out += datagen._blob(text, mark)
    extra = {".hotfix.toml": CONFIG.encode(),
             "ops/deploy.sh": b"#!/bin/sh\necho deploying \"$@\"\n"}
    mark = len(texts)
    extra_marks = {}
    for name, data in extra.items():
        mark += 1
        out += datagen._blob(data, mark)
        extra_marks[name] = mark
    when = 1_760_000_000
    mark += 1
    base_mark = mark
    out += b"commit refs/heads/main\nmark :%d\n" % mark
    out += b"author Bench <b@example.com> %d +0000\ncommitter Bench <b@example.com> %d +0000\n" \
        % (when, when)
    out += b"data 18\nImport the service\n"
    for m, p in enumerate(paths, 1):
        out += b"M 100644 :%d %s\n" % (m, p.encode())
    for name, m in extra_marks.items():
        mode = b"100755" if name.endswith(".sh") else b"100644"
        out += b"M %s :%d %s\n" % (mode, m, name.encode())
    out += b"\n"
    fix_at = 20
    for c in range(40):
        i = rng.randrange(files)
        lines = texts[i].split(b"\n")
        lines.insert(3, b"# change %d" % c)
        texts[i] = b"\n".join(lines)
        mark += 1
        out += datagen._blob(texts[i], mark)
        when += 600
        msg = b"Fix the rounding of totals" if c == fix_at else b"Change %d" % c
        out += b"commit refs/heads/main\nmark :%d\n" % (mark + 1)
        out += b"author Bench <b@example.com> %d +0000\ncommitter Bench <b@example.com> %d " \
               b"+0000\n" % (when, when)
        out += b"data %d\n%s\nfrom :%d\n" % (len(msg), msg, mark - 1 if c else base_mark)
        out += b"M 100644 :%d %s\n\n" % (mark, paths[i].encode())
        mark += 1
    out += (b"tag v1.0.0\nfrom :%d\ntagger Bench <b@example.com> %d +0000\n"
            b"data 13\nrelease 1.0.0\n") % (base_mark, when)
    git(path, "fast-import", "--quiet", stdin=bytes(out))
    git(path, "checkout", "-q", "-f", "main")
    fix = git(path, "rev-parse", f"main~{39 - fix_at}")
    if "Fix the rounding" not in git(path, "log", "-1", "--format=%s", fix):
        raise RuntimeError("the fix commit is not where expected")
    _hotfix(path, "init")
    _hotfix(path, "incident", "open", "--title", "Totals off by a cent", "--sev", "1",
            "--service", "checkout")
    for n in range(1, PREPARED_HOTFIXES + 1):
        _hotfix(path, "start", "--incident", "INC-1", "--title", f"Round totals ({n})")
        _hotfix(path, "pick", f"HF-{n}", fix)
    return {"repo": str(path), "fix": fix, "files": files,
            "next_hotfix": PREPARED_HOTFIXES + 1}


def _env(trace: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in child_env().items() if k != "HOTFIX_ACTOR"}
    env.update(GIT_ENV)
    env["HOME"] = env.get("HOME", "/root")
    if trace is not None:
        env["GIT_TRACE"] = str(trace)
    return env


def _hotfix(repo: Path, *args: str, trace: Path | None = None) -> str:
    proc = subprocess.run([hotfix_exe(), *args], cwd=repo, env=_env(trace),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"hotfix {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])}: {proc.stderr.decode(errors='replace')}")
    return elapsed


def git_processes(trace: Path) -> list[str]:
    """The git processes a GIT_TRACE file shows (one line per process started)."""
    if not trace.exists():
        return []
    out = []
    for line in trace.read_text(errors="replace").splitlines():
        if "trace: built-in: git " in line or "trace: exec: " in line:
            out.append(line.split("trace: ", 1)[1])
    return out


def measure_p7(project: dict, runs: int) -> dict:
    repo = Path(project["repo"])
    env = _env()
    reads = [(name, args) for name, args in READS
             if name != "history QUERY --json" or _has_history(repo)]
    for _, args in reads:  # each read answers, and in JSON
        json.loads(_hotfix(repo, *args))
    base_argv = [sys.executable, "-c", "import click, sqlite3"]
    calls = [lambda a=args: _timed([hotfix_exe(), *a], repo, env) for _, a in reads]
    times: list[list[float]] = [[] for _ in reads]
    base: list[float] = []
    for _ in range(runs):
        base.append(_timed(base_argv, repo, env))
        for call, out in zip(calls, times, strict=True):
            out.append(call())
    b = median(base)
    per = {name: {"runs": t, "median": median(t), "ratio": median(t) / b}
           for (name, _), t in zip(reads, times, strict=True)}
    worst = max(per.values(), key=lambda r: r["ratio"])
    git_counts = {}
    for name, args in reads:
        trace = repo.parent / f"p7-{abs(hash(name))}.trace"
        trace.unlink(missing_ok=True)
        _hotfix(repo, *args, trace=trace)
        git_counts[name] = len(git_processes(trace))
        trace.unlink(missing_ok=True)
    return {"baseline": b, "baseline_runs": base, "reads": per, "ratio": worst["ratio"],
            "value": worst["median"], "git": git_counts}


def _has_history(repo: Path) -> bool:
    proc = subprocess.run([hotfix_exe(), "history", "--help"], cwd=repo, env=_env(),
                          capture_output=True)
    return proc.returncode == 0


def measure_p8(project: dict, runs: int) -> dict:
    repo = Path(project["repo"])
    fix = project["fix"]
    env = _env()
    n = project["next_hotfix"]
    trees = repo.parent / "p8-trees"
    # a previous run's worktrees (--data keeps the folder); their branches went with the
    # project, which is made afresh
    shutil.rmtree(trees, ignore_errors=True)
    trees.mkdir()
    hot_t: list[float] = []
    git_t: list[float] = []
    counts: dict[str, list[str]] = {}
    for r in range(runs + 1):  # the first of each is a warm-up, not counted
        trace = repo.parent / "p8.trace" if r == 0 else None
        start = [hotfix_exe(), "start", "--incident", "INC-1", "--title", f"Round {n}"]
        pick = [hotfix_exe(), "pick", f"HF-{n}", fix]
        t = time.perf_counter()
        for name, argv in (("start", start), ("pick", pick)):
            if trace is not None:
                trace.unlink(missing_ok=True)
                subprocess.run(argv, cwd=repo, env=_env(trace), capture_output=True,
                               check=True)
                counts[name] = git_processes(trace)
            else:
                _timed(argv, repo, env)
        elapsed = time.perf_counter() - t
        n += 1
        path = trees / f"plain-{r}"
        t = time.perf_counter()
        _timed(["git", "worktree", "add", "-q", "-b", f"plain/{r}", str(path), "v1.0.0"],
               repo, env)
        _timed(["git", "-C", str(path), "cherry-pick", "-x", fix], repo, env)
        plain = time.perf_counter() - t
        if r:
            hot_t.append(elapsed)
            git_t.append(plain)
    project["next_hotfix"] = n
    return {"value": median(hot_t), "baseline": median(git_t),
            "ratio": median(hot_t) / median(git_t), "hotfix_s": hot_t, "git_s": git_t,
            "git_start": counts.get("start", []), "git_pick": counts.get("pick", []),
            "files": project["files"]}


if __name__ == "__main__":  # a quick look: python bench/p7_p8_cli.py DIR
    where = Path(sys.argv[1])
    info = make_project(where / "project", int(os.environ.get("FILES", "3000")))
    print(json.dumps(measure_p7(info, 3), indent=1, default=str)[:3000])
    print(json.dumps(measure_p8(info, 3), indent=1, default=str)[:3000])


# ---- reporting ------------------------------------------------------------------------------

def p7_figures(r: dict) -> list[str]:
    reads = ", ".join(f"{name.split(' --')[0]} {x['median'] * 1000:.0f}"
                      for name, x in r["reads"].items())
    return [f"{reads} ms", f"{r['baseline'] * 1000:.0f} ms", f"max {r['ratio']:.2f}×"]


def details(m: str, r: dict) -> list[str]:
    ms = lambda xs: ", ".join(f"{x * 1000:.0f}" for x in xs)  # noqa: E731
    if m == "P7":
        out = [f"- baseline `python -c \"import click, sqlite3\"` runs (ms): "
               f"{ms(r['baseline_runs'])}"]
        for name, x in r["reads"].items():
            out.append(f"- `hotfix {name}`: {x['ratio']:.2f}×, runs (ms): {ms(x['runs'])}; "
                       f"git processes: {r['git'][name]}")
        return out
    return [f"- `start` + `pick` runs (ms): {ms(r['hotfix_s'])}",
            f"- `git worktree add` + `git cherry-pick -x` runs (ms): {ms(r['git_s'])}",
            f"- git processes: `start` {len(r['git_start'])}, `pick` {len(r['git_pick'])}"
            f" (repository of {r['files']:,} files):",
            *[f"  - start: `{c}`" for c in r["git_start"]],
            *[f"  - pick: `{c}`" for c in r["git_pick"]]]
