"""The schema, versioned by PRAGMA user_version, with forward-only migrations."""

from __future__ import annotations

import sqlite3

from ..core.errors import StoreError

_HOTFIX_STATES = (
    "'draft','in_review','approved','deploying','deployed','verified','finished',"
    "'failed','rolled_back','abandoned'"
)
_RUN_STATUSES = "'running','succeeded','failed','cancelled','timed_out','interrupted'"

V1 = f"""
CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE CHECK (key = 'INC-' || id),
    title TEXT NOT NULL CHECK (length(trim(title)) > 0),
    severity INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
    status TEXT NOT NULL CHECK (status IN ('open','mitigated','resolved')),
    service TEXT NOT NULL DEFAULT '',
    commander TEXT NOT NULL DEFAULT '',
    opened_by TEXT NOT NULL,
    opened_by_verified INTEGER NOT NULL CHECK (opened_by_verified IN (0, 1)),
    opened_at TEXT NOT NULL,
    mitigated_at TEXT,
    resolved_at TEXT,
    source TEXT NOT NULL DEFAULT 'manual',
    fingerprint TEXT UNIQUE
) STRICT;
CREATE INDEX incidents_status ON incidents(status, id);

CREATE TABLE hotfixes (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE CHECK (key = 'HF-' || id),
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    title TEXT NOT NULL CHECK (length(trim(title)) > 0),
    author TEXT NOT NULL,
    author_verified INTEGER NOT NULL CHECK (author_verified IN (0, 1)),
    base_ref TEXT NOT NULL,
    base_sha TEXT NOT NULL,
    branch TEXT NOT NULL,
    worktree TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    version TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ({_HOTFIX_STATES})),
    why TEXT NOT NULL DEFAULT '',
    risk TEXT NOT NULL DEFAULT '',
    test_plan TEXT NOT NULL DEFAULT '',
    rollback_plan TEXT NOT NULL DEFAULT '',
    scope_accepted_reason TEXT NOT NULL DEFAULT '',
    break_glass INTEGER NOT NULL DEFAULT 0 CHECK (break_glass IN (0, 1)),
    break_glass_reason TEXT NOT NULL DEFAULT '',
    needs_retroactive_approval INTEGER NOT NULL DEFAULT 0
        CHECK (needs_retroactive_approval IN (0, 1)),
    skip_verify_reason TEXT NOT NULL DEFAULT '',
    tag TEXT NOT NULL DEFAULT '',
    commit_messages TEXT NOT NULL DEFAULT '',
    finish_state TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX hotfixes_incident ON hotfixes(incident_id, id);
CREATE INDEX hotfixes_state ON hotfixes(state, id);
CREATE INDEX hotfixes_author ON hotfixes(author, id);
CREATE INDEX hotfixes_created ON hotfixes(created_at);
CREATE UNIQUE INDEX hotfixes_branch_live ON hotfixes(branch) WHERE state <> 'abandoned';

CREATE TABLE checklist_items (
    id INTEGER PRIMARY KEY,
    hotfix_id INTEGER NOT NULL REFERENCES hotfixes(id),
    kind TEXT NOT NULL CHECK (kind IN ('scope', 'verify')),
    n INTEGER NOT NULL CHECK (n >= 1),
    text TEXT NOT NULL,
    checked INTEGER NOT NULL DEFAULT 0 CHECK (checked IN (0, 1)),
    checked_by TEXT,
    checked_by_verified INTEGER NOT NULL DEFAULT 1 CHECK (checked_by_verified IN (0, 1)),
    checked_at TEXT,
    env TEXT NOT NULL DEFAULT '',
    UNIQUE (hotfix_id, kind, env, n)
) STRICT;

CREATE TABLE approvals (
    id INTEGER PRIMARY KEY,
    hotfix_id INTEGER NOT NULL REFERENCES hotfixes(id),
    approver TEXT NOT NULL,
    approver_verified INTEGER NOT NULL CHECK (approver_verified IN (0, 1)),
    decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
    head_sha TEXT NOT NULL,
    tree_sha TEXT NOT NULL,
    checklist_hash TEXT NOT NULL,
    doc_hash TEXT NOT NULL DEFAULT '',
    config_hash TEXT NOT NULL,
    stale INTEGER NOT NULL DEFAULT 0 CHECK (stale IN (0, 1)),
    stale_reason TEXT NOT NULL DEFAULT '',
    retroactive INTEGER NOT NULL DEFAULT 0 CHECK (retroactive IN (0, 1)),
    comment TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
) STRICT;
CREATE INDEX approvals_hotfix ON approvals(hotfix_id, id);

CREATE TABLE environments (
    name TEXT PRIMARY KEY,
    version TEXT,
    sha TEXT,
    deployed_by TEXT,
    deployed_by_verified INTEGER NOT NULL DEFAULT 1,
    deployed_at TEXT,
    deploy_id INTEGER,
    locked INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    locked_by TEXT,
    locked_at TEXT,
    lock_reason TEXT,
    CHECK (locked = 0 OR (locked_by IS NOT NULL AND length(trim(lock_reason)) > 0))
) STRICT;

CREATE TABLE deploys (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE CHECK (key = 'D-' || id),
    hotfix_id INTEGER REFERENCES hotfixes(id),
    env TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('deploy', 'verify', 'rollback')),
    status TEXT NOT NULL CHECK (status IN ({_RUN_STATUSES})),
    exit_code INTEGER,
    signal INTEGER,
    sha TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    previous_sha TEXT NOT NULL DEFAULT '',
    previous_version TEXT NOT NULL DEFAULT '',
    started_by TEXT NOT NULL,
    started_by_verified INTEGER NOT NULL CHECK (started_by_verified IN (0, 1)),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    heartbeat_at TEXT,
    pid INTEGER,
    host TEXT NOT NULL DEFAULT '',
    argv TEXT NOT NULL DEFAULT '[]',
    env_vars TEXT NOT NULL DEFAULT '{{}}',
    workdir TEXT NOT NULL DEFAULT '',
    pgid INTEGER,
    max_log_bytes INTEGER NOT NULL DEFAULT 67108864,
    dropped_bytes INTEGER NOT NULL DEFAULT 0,
    timeout_s REAL NOT NULL DEFAULT 900,
    cancel_grace_s REAL NOT NULL DEFAULT 10,
    break_glass INTEGER NOT NULL DEFAULT 0 CHECK (break_glass IN (0, 1)),
    break_glass_reason TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    cancel_requested_by TEXT,
    cancel_requested_at TEXT,
    lines INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    truncated INTEGER NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1)),
    CHECK (status = 'running' OR finished_at IS NOT NULL)
) STRICT;
CREATE INDEX deploys_env ON deploys(env, id);
CREATE INDEX deploys_hotfix ON deploys(hotfix_id, id);
CREATE UNIQUE INDEX deploys_one_running_per_env ON deploys(env) WHERE status = 'running';

CREATE TABLE deploy_lines (
    deploy_id INTEGER NOT NULL REFERENCES deploys(id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    -- OR-ed equalities: an IN (...) check more than doubled the cost of each insert
    stream TEXT NOT NULL CHECK (stream = 'out' OR stream = 'err' OR stream = 'sys'),
    at TEXT NOT NULL,
    text TEXT NOT NULL,
    flags INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (deploy_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_verified INTEGER NOT NULL CHECK (actor_verified IN (0, 1)),
    entity TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    action TEXT NOT NULL,
    incident TEXT,
    hotfix TEXT,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
) STRICT;
CREATE INDEX audit_incident ON audit_events(incident, id);
CREATE INDEX audit_hotfix ON audit_events(hotfix, id);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
"""

# Full-text search over hotfixes for the history browser, kept in step by triggers.
V2 = """
CREATE VIRTUAL TABLE hotfix_search USING fts5(
    title, why, risk, commits, incident, tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO hotfix_search (rowid, title, why, risk, commits, incident)
    SELECT h.id, h.title, h.why, h.risk, h.commit_messages, i.title
    FROM hotfixes h JOIN incidents i ON i.id = h.incident_id;
CREATE TRIGGER hotfix_search_insert AFTER INSERT ON hotfixes BEGIN
    INSERT INTO hotfix_search (rowid, title, why, risk, commits, incident)
    VALUES (new.id, new.title, new.why, new.risk, new.commit_messages,
            (SELECT title FROM incidents WHERE id = new.incident_id));
END;
CREATE TRIGGER hotfix_search_update AFTER UPDATE OF title, why, risk, commit_messages
    ON hotfixes BEGIN
    DELETE FROM hotfix_search WHERE rowid = old.id;
    INSERT INTO hotfix_search (rowid, title, why, risk, commits, incident)
    VALUES (new.id, new.title, new.why, new.risk, new.commit_messages,
            (SELECT title FROM incidents WHERE id = new.incident_id));
END;
CREATE TRIGGER hotfix_search_incident AFTER UPDATE OF title ON incidents BEGIN
    UPDATE hotfix_search SET incident = new.title
    WHERE rowid IN (SELECT id FROM hotfixes WHERE incident_id = new.id);
END;
CREATE INDEX deploys_env_hotfix ON deploys(env, hotfix_id);
"""

# Hook deliveries (hooks/): which audit events have been turned into deliveries (the
# cursor starts after what already happened), and one row per event and matching hook.
# A row goes pending → running (just before the command starts, never twice) → an outcome;
# a row still running when its worker died is `lost`, never run again.
V3 = """
CREATE TABLE hook_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_event_id INTEGER NOT NULL
) STRICT;
INSERT INTO hook_cursor (id, last_event_id)
    SELECT 1, coalesce(max(id), 0) FROM audit_events;
CREATE TABLE hook_deliveries (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES audit_events(id),
    event TEXT NOT NULL,
    hook TEXT NOT NULL,
    argv TEXT NOT NULL,
    cwd TEXT NOT NULL,
    payload TEXT NOT NULL,
    timeout_s REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending','running','succeeded','failed',
                                           'timed_out','lost','skipped')),
    queued_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    host TEXT NOT NULL DEFAULT '',
    pid INTEGER,
    exit_code INTEGER,
    signal INTEGER,
    duration_ms INTEGER,
    stderr TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    UNIQUE (event_id, event, hook)
) STRICT;
CREATE INDEX hook_deliveries_status ON hook_deliveries(status, id);
CREATE INDEX hook_deliveries_finished ON hook_deliveries(finished_at);
"""

# Who is behind a name: the OS account that authored a hotfix and that gave an approval
# (the two-person rule compares accounts, never display names). Records of earlier
# versions get theirs from the audit trail, which kept the account of every override.
V4 = """
ALTER TABLE hotfixes ADD COLUMN author_account TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN approver_account TEXT NOT NULL DEFAULT '';
UPDATE hotfixes SET author_account = CASE WHEN author_verified = 1 THEN author ELSE coalesce(
    (SELECT json_extract(e.data, '$.os_account') FROM audit_events e
     WHERE e.hotfix = hotfixes.key AND e.action = 'hotfix.started' ORDER BY e.id LIMIT 1),
    '') END;
UPDATE approvals SET approver_account = CASE WHEN approver_verified = 1 THEN approver ELSE
    coalesce((SELECT json_extract(e.data, '$.os_account') FROM audit_events e
              JOIN hotfixes h ON h.key = e.hotfix
              WHERE h.id = approvals.hotfix_id AND e.actor = approvals.approver
                AND e.at = approvals.at
                AND e.action IN ('approval.approved', 'approval.retroactive', 'hotfix.rejected')
              ORDER BY e.id LIMIT 1), '') END;
CREATE INDEX audit_entity ON audit_events(entity, entity_key, id);
"""

# Every process a run's command started (deploy/procs.py): the marker its environment
# carries (HOTFIX_RUN), the cgroup it runs in where the host allows one, and the
# processes that survived its stop (pid, start time, account, command), which block the
# environment until they are gone or cleared.
V5 = """
ALTER TABLE deploys ADD COLUMN marker TEXT NOT NULL DEFAULT '';
ALTER TABLE deploys ADD COLUMN cgroup TEXT NOT NULL DEFAULT '';
ALTER TABLE deploys ADD COLUMN survivors TEXT NOT NULL DEFAULT '[]';
"""

# Verification per environment (the release path): one row per hotfix and environment it
# was deployed to successfully, with the content (sha) deployed there, its verification
# (pending, passed, failed) and the rollback that took it away again. Runs record the
# release path they started under: the environment finish requires (`gate_env`, '' for
# runs started before this schema: any environment counted), the environments after
# theirs (`later_envs`), and what a break-glass deploy bypassed (`bypassed`).
# Existing records keep their verification: every environment a hotfix was deployed to
# before it was verified counts as verified there, at the time it was verified.
V6 = """
CREATE TABLE env_verifications (
    hotfix_id INTEGER NOT NULL REFERENCES hotfixes(id),
    env TEXT NOT NULL,
    sha TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    deploy_id INTEGER REFERENCES deploys(id),
    deployed_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'passed', 'failed')),
    changed_at TEXT NOT NULL,
    verified_at TEXT,
    verified_by TEXT,
    verified_by_verified INTEGER NOT NULL DEFAULT 1 CHECK (verified_by_verified IN (0, 1)),
    run_id INTEGER REFERENCES deploys(id),
    rollback_id INTEGER REFERENCES deploys(id),
    PRIMARY KEY (hotfix_id, env),
    CHECK (state <> 'passed' OR (verified_at IS NOT NULL AND verified_by IS NOT NULL))
) STRICT;
ALTER TABLE deploys ADD COLUMN gate_env TEXT NOT NULL DEFAULT '';
ALTER TABLE deploys ADD COLUMN later_envs TEXT NOT NULL DEFAULT '[]';
ALTER TABLE deploys ADD COLUMN bypassed TEXT NOT NULL DEFAULT '[]';
INSERT INTO env_verifications (hotfix_id, env, sha, version, deploy_id, deployed_at, state,
                               changed_at, verified_at, verified_by, verified_by_verified,
                               run_id, rollback_id)
SELECT d.hotfix_id, d.env, d.sha, d.version, d.id, coalesce(d.finished_at, d.started_at),
       CASE WHEN v.id IS NOT NULL THEN 'passed'
            WHEN r.status IN ('failed', 'timed_out') THEN 'failed'
            ELSE 'pending' END,
       coalesce(v.at, r.finished_at, d.finished_at, d.started_at),
       v.at, v.actor, coalesce(v.actor_verified, 1), r.id,
       (SELECT min(b.id) FROM deploys b WHERE b.hotfix_id = d.hotfix_id AND b.env = d.env
          AND b.kind = 'rollback' AND b.status = 'succeeded' AND b.id > d.id)
FROM deploys d
JOIN hotfixes h ON h.id = d.hotfix_id
LEFT JOIN audit_events v ON v.id = (
    SELECT max(a.id) FROM audit_events a WHERE a.hotfix = h.key
      AND a.action = 'hotfix.verified' AND a.at >= coalesce(d.finished_at, d.started_at))
LEFT JOIN deploys r ON r.id = (
    SELECT max(x.id) FROM deploys x WHERE x.hotfix_id = d.hotfix_id AND x.env = d.env
      AND x.kind = 'verify' AND x.id > d.id AND x.sha = d.sha
      AND x.status IN ('failed', 'timed_out'))
WHERE d.id IN (SELECT max(id) FROM deploys WHERE kind = 'deploy' AND status = 'succeeded'
               AND hotfix_id IS NOT NULL GROUP BY hotfix_id, env);
"""

# Approvals signed with the approver's SSH key (`ssh-keygen -Y sign -n hotfix-approval`)
# over the canonical payload of core.signature; the row keeps what the payload names
# beyond its own columns, so anyone can rebuild it and verify.
V7 = """
ALTER TABLE approvals ADD COLUMN signature TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN signature_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE approvals ADD COLUMN repository TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN signer TEXT NOT NULL DEFAULT '';
"""

# What every dashboard read asks of each environment, answered from a few index entries
# instead of a scan of every run there (a year of deploys): its successful deploys and
# rollbacks newest first (where a rollback may go), the releases rolled back from, runs
# interrupted (a command that may still be alive) and runs whose stop left survivors.
V8 = """
CREATE INDEX deploys_known_good ON deploys(env, id)
    WHERE status = 'succeeded' AND kind IN ('deploy', 'rollback');
CREATE INDEX deploys_rollbacks ON deploys(env, previous_sha) WHERE kind = 'rollback';
CREATE INDEX deploys_interrupted ON deploys(env, id) WHERE status = 'interrupted';
CREATE INDEX deploys_survivors ON deploys(env, id) WHERE survivors <> '[]';
"""

# One history across bastions (docs/SYNC.md). Every event belongs to a site's own chain:
# `origin` '' is this database's site, another name an event fetched from that site;
# `seq`, `site_prev` and `site_hash` are the event's place in its site's chain (the audit
# chain's own formula over the site's events alone, so before any import they equal id,
# prev_hash and hash, which is how existing events are migrated). `seen` is, for a deploy
# or a lock, how far this site had read every other site when it acted (a conflict is two
# sites that had not seen each other's). Rows fetched from another site carry its name in
# `origin`; a run's log stays where it ran, its hash (`log_hash`) travels. New keys of a
# site that joined are allocated in its slot (sync_site): id % 10 = slot, so keys stay
# short (HF-12, HF-21) and never clash; keys from before joining keep their numbers.
V9 = """
DROP TRIGGER audit_events_no_update;
ALTER TABLE audit_events ADD COLUMN origin TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN seq INTEGER;
ALTER TABLE audit_events ADD COLUMN site_prev TEXT;
ALTER TABLE audit_events ADD COLUMN site_hash TEXT;
ALTER TABLE audit_events ADD COLUMN seen TEXT NOT NULL DEFAULT '';
UPDATE audit_events SET seq = id, site_prev = prev_hash, site_hash = hash;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE UNIQUE INDEX audit_site_seq ON audit_events(origin, seq);
ALTER TABLE incidents ADD COLUMN origin TEXT NOT NULL DEFAULT '';
ALTER TABLE hotfixes ADD COLUMN origin TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN origin TEXT NOT NULL DEFAULT '';
ALTER TABLE deploys ADD COLUMN origin TEXT NOT NULL DEFAULT '';
ALTER TABLE deploys ADD COLUMN log_hash TEXT NOT NULL DEFAULT '';
CREATE TABLE sync_site (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    database TEXT NOT NULL,
    slot INTEGER NOT NULL CHECK (slot BETWEEN 1 AND 9),
    joined_at TEXT NOT NULL,
    exported_seq INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE sync_heads (
    site TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    database TEXT NOT NULL,
    slot INTEGER NOT NULL,
    at TEXT NOT NULL
) STRICT;
CREATE TABLE sync_files (
    path TEXT PRIMARY KEY,
    blob TEXT NOT NULL
) STRICT;
CREATE TABLE sync_findings (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    site TEXT NOT NULL,
    problem TEXT NOT NULL UNIQUE
) STRICT;
"""

MIGRATIONS: list[str] = [V1, V2, V3, V4, V5, V6, V7, V8, V9]
SCHEMA_VERSION = len(MIGRATIONS)
OUR_TABLES = {"incidents", "hotfixes", "audit_events"}


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


def looks_like_ours(conn: sqlite3.Connection) -> bool:
    return _tables(conn) >= OUR_TABLES


def has_foreign_tables(conn: sqlite3.Connection) -> bool:
    return bool({t for t in _tables(conn) if not t.startswith("sqlite_")})


def migrate(conn: sqlite3.Connection, shown: str) -> None:
    """Bring the schema to SCHEMA_VERSION; safe when several processes race to do it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{shown} was written by a newer hotfix-tui (schema {version})")
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _split(MIGRATIONS[number - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _split(script: str) -> list[str]:
    """Split DDL into statements, keeping trigger bodies whole."""
    out: list[str] = []
    buf: list[str] = []
    for line in script.strip().splitlines():
        buf.append(line)
        text = "\n".join(buf).strip()
        if sqlite3.complete_statement(text):
            out.append(text)
            buf = []
    if "\n".join(buf).strip():
        raise ValueError("incomplete statement in migration")
    return out
