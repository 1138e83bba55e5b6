"""Large, realistic data for the benchmarks, written fast.

Databases are created by `hotfix_tui.store.open_store`, so the schema, the FTS
triggers and the indexes are the real ones; rows are then written with plain SQL
in a few big transactions. Everything is seeded: two runs generate the same data.
"""

from __future__ import annotations

import json
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import Sizes, git

from hotfix_tui.clock import iso
from hotfix_tui.store import open_store

SEED = 20261126

# Words drawn with skewed weights, so that full-text searches range from a word
# in a third of all hotfixes to one in a handful.
COMPONENTS = ["checkout", "cart", "payments", "search", "auth", "session", "inventory",
              "shipping", "invoice", "webhook", "coupon", "gift card", "tax", "currency",
              "email", "export", "pricing", "refund", "catalog", "recommendations",
              "login", "signup", "password reset", "rate limiter", "queue consumer",
              "image resizer", "pdf renderer", "ledger", "fraud check", "loyalty points"]
PROBLEMS = ["null total", "timeout", "race condition", "double charge", "stale cache",
            "N+1 query", "rounding error", "deadlock", "memory leak", "utf-8 decode error",
            "off-by-one", "wrong timezone", "missing index", "retry storm", "negative amount",
            "expired token", "duplicate webhook", "empty response", "slow query",
            "connection pool exhaustion", "integer overflow", "locale parsing",
            "unbounded pagination", "cold start", "stuck job"]
VERBS = ["Fix", "Guard against", "Revert", "Retry on", "Cap", "Handle", "Skip", "Restore",
         "Bound", "Escape", "Log", "Patch", "Work around", "Stop", "Clamp"]
SERVICES = ["checkout", "payments", "search", "accounts", "catalog", "orders", "shipping",
            "notifications", "billing", "gateway"]
AUTHORS = ["priya", "tom", "ana", "li", "sam", "noor", "jonas", "mei", "omar", "eva",
           "raj", "kofi", "lena", "diego", "yuki", "ines", "pavel", "amara", "hugo", "sara"]
RARE = ["kafka", "redis", "postgres", "nginx", "grpc", "protobuf", "s3", "cdn", "dns",
        "tls", "oauth", "saml", "cron", "k8s", "helm", "terraform", "sentry", "datadog",
        "stripe", "adyen", "paypal", "klarna", "elasticsearch", "memcached", "rabbitmq"]
WHY = ["{c} returns {p} for {n}% of requests since {v}.",
       "Customers see {p} in {c} after the {r} upgrade.",
       "{p} in {c} when {r} is slow; pages on-call every night.",
       "Since {v}, {c} hits {p} under load ({n} errors/min)."]
RISK = ["Low: one expression in {c}.", "Medium: touches {c} and {r} client code.",
        "Low: guarded by a flag; {c} falls back to the old path.",
        "High: changes how {c} talks to {r}; watch error rates."]
COMMITS = ["{verb} {p} in {c}", "Add regression test for {c} {p}", "Bump {r} client timeout",
           "Tidy {c} error handling", "Log {r} latency in {c}"]

INC_STATES_OPEN = ("open", "mitigated")
HF_STATES_DONE = ("finished", "finished", "finished", "finished", "abandoned", "rolled_back",
                  "failed", "verified")
HF_STATES_LIVE = ("draft", "in_review", "approved", "deployed", "verified", "failed",
                  "finished", "abandoned")


def _weighted(rng: random.Random, items: list[str]) -> str:
    """Zipf-like: the first items are much more frequent than the last."""
    i = min(int(rng.paretovariate(1.1)) - 1, len(items) - 1)
    return items[i] if rng.random() < 0.7 else rng.choice(items)


def _words(rng: random.Random) -> dict[str, str]:
    return {"c": _weighted(rng, COMPONENTS), "p": _weighted(rng, PROBLEMS),
            "r": _weighted(rng, RARE), "verb": rng.choice(VERBS),
            "n": str(rng.randint(1, 99)), "v": f"1.{rng.randint(0, 40)}.{rng.randint(0, 9)}"}


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


# ---- the console's database ------------------------------------------------------------

def make_console_db(path: Path, sizes: Sizes, now: datetime | None = None) -> dict:
    """Incidents, hotfixes (with FTS rows, via the real triggers), approvals, deploys
    and their log lines, environments. Returns counts and the key of the long run."""
    rng = random.Random(SEED)
    now = now or datetime.now(UTC)
    store = open_store(path)
    conn = store.conn
    conn.execute("PRAGMA synchronous = OFF")  # generation only; readers use the real pragmas
    span = timedelta(days=730)
    n_inc = sizes.incidents
    # About 1% of incidents are not resolved yet: the newest ones, and stragglers
    # nobody closed (10 000 incidents → about 100 on the dashboard, whose cap is 200).
    live = set(range(n_inc - max(3, n_inc // 200) + 1, n_inc + 1))
    live |= {rng.randint(1, n_inc) for _ in range(max(1, n_inc // 200))}
    inc_rows = []
    inc_opened: dict[int, datetime] = {}
    inc_titles: dict[int, str] = {}
    for i in range(1, n_inc + 1):
        opened = now - span + span * (i / n_inc) - timedelta(minutes=rng.randint(0, 600))
        inc_opened[i] = opened
        w = _words(rng)
        title = f"{w['c'].capitalize()} {w['p']} ({rng.choice(SERVICES)})"
        inc_titles[i] = title
        status = rng.choice(INC_STATES_OPEN) if i in live else "resolved"
        inc_rows.append((i, f"INC-{i}", title, rng.choice((1, 2, 2, 3, 3, 3, 4)), status,
                         rng.choice(SERVICES), rng.choice(AUTHORS), rng.choice(AUTHORS), 1,
                         iso(opened),
                         iso(opened + timedelta(hours=2)) if status != "open" else None,
                         iso(opened + timedelta(hours=9)) if status == "resolved" else None))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO incidents (id, key, title, severity, status, service, commander, "
        "opened_by, opened_by_verified, opened_at, mitigated_at, resolved_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", inc_rows)
    conn.execute("COMMIT")

    n_hf = sizes.hotfixes
    hf_rows = []
    appr_rows = []
    deploy_rows = []
    line_rows = []
    hf_state: dict[int, str] = {}
    for h in range(1, n_hf + 1):
        inc = max(1, min(n_inc, int(h * n_inc / n_hf) + rng.randint(-2, 2)))
        created = inc_opened[inc] + timedelta(minutes=rng.randint(5, 300))
        created = min(created, now - timedelta(minutes=1))
        w = _words(rng)
        title = f"{w['verb']} {w['p']} in {w['c']}"
        if rng.random() < 0.05:
            title += f" (JIRA-{rng.randint(1000, 99999)})"
        why = rng.choice(WHY).format(**w)
        risk = rng.choice(RISK).format(**w)
        commits = "\n".join(rng.choice(COMMITS).format(**_words(rng) | {"verb": w["verb"]})
                            for _ in range(rng.randint(1, 3)))
        state = rng.choice(HF_STATES_LIVE if inc in live else HF_STATES_DONE)
        hf_state[h] = state
        author = rng.choice(AUTHORS)
        base = _sha(rng)
        head = _sha(rng)
        version = f"1.{h // 1000}.{h % 1000}"
        updated = created + timedelta(minutes=rng.randint(1, 240))
        hf_rows.append((h, f"HF-{h}", inc, title, author, 1, f"v1.{h // 1000}.0", base,
                        f"hotfix/HF-{h}", f"/srv/worktrees/HF-{h}", head, version, state, why,
                        risk, "Unit test and a canary.", "Roll back to the previous tag.",
                        int(rng.random() < 0.01), commits, iso(created), iso(min(updated, now))))
        if state in ("approved", "deployed", "verified", "finished", "rolled_back", "failed"):
            approver = rng.choice([a for a in AUTHORS if a != author])
            appr_rows.append((h, approver, 1, "approved", head, _sha(rng), "c" * 64, "d" * 64,
                              "e" * 64, iso(updated)))
        if state in ("deployed", "verified", "finished", "rolled_back", "failed"):
            for env in ("staging", "production"):
                ok = not (state == "failed" and env == "production")
                at = updated + timedelta(minutes=3 if env == "staging" else 9)
                deploy_rows.append((h, env, "succeeded" if ok else "failed", head, version,
                                    iso(at), iso(at + timedelta(seconds=40)), 0 if ok else 1))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO hotfixes (id, key, incident_id, title, author, author_verified, "
        "base_ref, base_sha, branch, worktree, head_sha, version, state, why, risk, "
        "test_plan, rollback_plan, break_glass, commit_messages, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", hf_rows)
    conn.executemany(
        "INSERT INTO approvals (hotfix_id, approver, approver_verified, decision, head_sha, "
        "tree_sha, checklist_hash, doc_hash, config_hash, at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        appr_rows)
    conn.execute("COMMIT")

    # Deploys: every finished run of a hotfix has a short log; the newest production
    # deploy is the long one (P6 shows it).
    conn.execute("BEGIN")
    d = 0
    for h, env, status, head, version, started, finished, code in deploy_rows:
        d += 1
        lines = [f"$ ./ops/deploy.sh {env} {version}", f"deploying {version} ({head[:12]})",
                 f"{env}: healthy", f"exit {code}"]
        conn.execute(
            "INSERT INTO deploys (id, key, hotfix_id, env, kind, status, exit_code, sha, "
            "version, started_by, started_by_verified, started_at, finished_at, heartbeat_at, "
            "argv, workdir, lines, bytes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (d, f"D-{d}", h, env, "deploy", status, code, head, version, "bench", 1, started,
             finished, finished, json.dumps(["./ops/deploy.sh", env, version]), "/srv",
             len(lines), sum(len(t) + 1 for t in lines)))
        line_rows.extend((d, n, "out" if n > 1 else "sys", started, t, 0)
                         for n, t in enumerate(lines, 1))
        if len(line_rows) > 200_000:
            conn.executemany("INSERT INTO deploy_lines VALUES (?,?,?,?,?,?)", line_rows)
            line_rows.clear()
    conn.executemany("INSERT INTO deploy_lines VALUES (?,?,?,?,?,?)", line_rows)
    line_rows.clear()
    conn.execute("COMMIT")
    long_key = _long_run(conn, rng, d + 1, sizes.log_lines, now)
    conn.execute("BEGIN")
    for env in ("staging", "production"):
        conn.execute("INSERT INTO environments (name, version, sha, deployed_by, deployed_at, "
                     "deploy_id) VALUES (?,?,?,?,?,?)",
                     (env, f"1.{n_hf // 1000}.{n_hf % 1000}", _sha(rng), "bench",
                      iso(now - timedelta(hours=1)), d + 1))
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("incidents", "hotfixes", "approvals", "deploys", "deploy_lines")}
    counts["open_incidents"] = conn.execute(
        "SELECT count(*) FROM incidents WHERE status <> 'resolved'").fetchone()[0]
    store.close()
    return {"counts": counts, "long_run": long_key}


LOG_TEMPLATES = [
    "INFO  rollout {v}: host web-{h:02d} drained ({n} connections)",
    "INFO  rollout {v}: host web-{h:02d} healthy after {n} ms",
    "DEBUG fetching artifact shard {n}/512 from cdn-{h}",
    "WARN  retrying health check on web-{h:02d} (attempt {a})",
    "INFO  migrated {n} rows in orders_{h}",
    "ERROR web-{h:02d}: upstream timeout after {n} ms; will retry",
]


def _long_run(conn, rng: random.Random, d: int, n_lines: int, now: datetime) -> str:
    """One finished production deploy with `n_lines` lines of log."""
    started = now - timedelta(hours=1)
    finished = started + timedelta(minutes=20)
    conn.execute("BEGIN")
    conn.execute(
        "INSERT INTO deploys (id, key, hotfix_id, env, kind, status, exit_code, sha, version, "
        "started_by, started_by_verified, started_at, finished_at, heartbeat_at, argv, "
        "workdir, lines, bytes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (d, f"D-{d}", None, "production", "deploy", "succeeded", 0, _sha(rng), "1.99.0",
         "bench", 1, iso(started), iso(finished), iso(finished),
         json.dumps(["./ops/deploy.sh", "production"]), "/srv", n_lines, 0))
    batch = []
    step = timedelta(minutes=20) / max(n_lines, 1)
    total_bytes = 0
    for n in range(1, n_lines + 1):
        tpl = LOG_TEMPLATES[rng.randrange(len(LOG_TEMPLATES))] if n % 7 else LOG_TEMPLATES[0]
        text = tpl.format(v="1.99.0", h=n % 48, n=n, a=n % 5 + 1)
        total_bytes += len(text) + 1
        stream = "err" if tpl.startswith(("WARN", "ERROR")) else "out"
        batch.append((d, n, stream, iso(started + step * n), text, 0))
        if len(batch) >= 100_000:
            conn.executemany("INSERT INTO deploy_lines VALUES (?,?,?,?,?,?)", batch)
            batch.clear()
    conn.executemany("INSERT INTO deploy_lines VALUES (?,?,?,?,?,?)", batch)
    conn.execute("UPDATE deploys SET bytes = ? WHERE id = ?", (total_bytes, d))
    conn.execute("COMMIT")
    return f"D-{d}"


# ---- repositories ---------------------------------------------------------------------------

CONSOLE_CONFIG = """\
[identity]
allow_override = true
sandbox = true

[environments.staging]
deploy = ["./ops/deploy.sh", "staging", "{version}"]
timeout_s = 3600

[environments.production]
deploy = ["./ops/deploy.sh", "production", "{version}"]
timeout_s = 3600
"""


def make_console_repo(path: Path) -> Path:
    """A small repository for the console's context (config with two environments)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / ".hotfix.toml").write_text(CONSOLE_CONFIG)
    (path / "ops").mkdir()
    (path / "ops" / "deploy.sh").write_text("#!/bin/sh\necho deploying \"$@\"\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "Console bench repository")
    git(path, "tag", "-a", "v1.0.0", "-m", "release 1.0.0")
    return path


def _file_text(rng: random.Random, i: int) -> bytes:
    lines = [f'"""Module {i}: {_weighted(rng, COMPONENTS)} helpers."""', ""]
    for f in range(rng.randint(4, 10)):
        lines.append(f"def {rng.choice(VERBS).split()[0].lower()}_{f}_{i}(value, limit={f}):")
        lines.append(f'    """{rng.choice(PROBLEMS)} guard for {rng.choice(RARE)}."""')
        for s in range(rng.randint(2, 6)):
            lines.append(f"    value = max(value - {s}, limit)  # {rng.choice(SERVICES)}")
        lines.append("    return value")
        lines.append("")
    return ("\n".join(lines) + "\n").encode()


def _blob(data: bytes, mark: int) -> bytes:
    return b"blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data)


def make_scope_repo(path: Path, n_files: int, n_changed: int) -> dict:
    """A repository of `n_files` files (one commit, written with git fast-import) and a
    hotfix branch of three commits that changes `n_changed` of them (mostly edits, a few
    additions and renames). Returns base, head and branch."""
    rng = random.Random(SEED + 5)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    paths = [f"src/{COMPONENTS[i % len(COMPONENTS)].replace(' ', '_')}/pkg{(i // 30) % 40}/"
             f"mod_{i}.py" for i in range(n_files)]
    texts = [_file_text(rng, i) for i in range(n_files)]
    out = bytearray()
    mark = 0
    for t in texts:
        mark += 1
        out += _blob(t, mark)
    when = 1_760_000_000
    out += b"commit refs/heads/main\nmark :%d\n" % (mark + 1)
    out += b"author Bench <b@example.com> %d +0000\ncommitter Bench <b@example.com> %d +0000\n" \
        % (when, when)
    msg = b"Import the service"
    out += b"data %d\n%s\n" % (len(msg), msg)
    for m, p in enumerate(paths, 1):
        out += b"M 100644 :%d %s\n" % (m, p.encode())
    base_mark = mark + 1
    mark = base_mark
    out += b"\n"
    # The hotfix: n_changed files over three commits.
    n_add = max(1, n_changed // 50)
    n_ren = max(1, n_changed // 75)
    n_mod = n_changed - n_add - n_ren
    chosen = rng.sample(range(n_files), n_mod + n_ren)
    modified, renamed = chosen[:n_mod], chosen[n_mod:]
    parts = [modified[: n_mod // 2], modified[n_mod // 2:], []]
    parent = base_mark
    for c, group in enumerate(parts):
        ops = bytearray()
        for i in group:
            lines = texts[i].split(b"\n")
            for _ in range(rng.randint(1, 3)):
                k = rng.randrange(2, max(3, len(lines) - 1))
                lines[k] = lines[k] + b"  # hotfix: clamp"
            lines.insert(3, b"# guarded by the hotfix")
            mark += 1
            out += _blob(b"\n".join(lines), mark)
            ops += b"M 100644 :%d %s\n" % (mark, paths[i].encode())
        if c == 2:
            for a in range(n_add):
                mark += 1
                out += _blob(_file_text(rng, n_files + a), mark)
                ops += b"M 100644 :%d src/hotfix/new_%d.py\n" % (mark, a)
            for i in renamed:
                ops += b"R %s %s\n" % (paths[i].encode(), paths[i].replace(".py", "_v2.py")
                                       .encode())
        mark += 1
        when += 3600
        out += b"commit refs/heads/hotfix/HF-1\nmark :%d\n" % mark
        out += b"author Bench <b@example.com> %d +0000\n" % when
        out += b"committer Bench <b@example.com> %d +0000\n" % when
        msg = b"Clamp values in the hotfix (part %d)" % (c + 1)
        out += b"data %d\n%s\nfrom :%d\n" % (len(msg), msg, parent)
        out += ops + b"\n"
        parent = mark
    git(path, "fast-import", "--quiet", stdin=bytes(out))
    git(path, "symbolic-ref", "HEAD", "refs/heads/main")
    base = git(path, "rev-parse", "main")
    head = git(path, "rev-parse", "hotfix/HF-1")
    return {"base": base, "head": head, "branch": "hotfix/HF-1", "files": n_files,
            "changed": n_changed}


def make_scope_db(path: Path, repo: Path, info: dict) -> None:
    """A database holding HF-1, whose branch is the scope repository's hotfix branch."""
    now = iso(datetime.now(UTC))
    store = open_store(path)
    with store.write():
        store.execute("INSERT INTO incidents (id, key, title, severity, status, opened_by, "
                      "opened_by_verified, opened_at) VALUES (1, 'INC-1', 'Values overflow', 1, "
                      "'open', 'bench', 1, ?)", (now,))
        store.execute(
            "INSERT INTO hotfixes (id, key, incident_id, title, author, author_verified, "
            "base_ref, base_sha, branch, worktree, head_sha, version, state, created_at, "
            "updated_at) VALUES (1, 'HF-1', 1, 'Clamp values', 'bench', 1, 'main', ?, ?, ?, ?, "
            "'1.0.1', 'draft', ?, ?)",
            (info["base"], info["branch"], str(repo / ".git" / "hotfix" / "HF-1"), info["head"],
             now, now))
    store.close()

