"""What an environment ran, and so where a rollback may go.

A rollback skips review because it returns an environment to a state that environment
has already been in. So its target is a release that environment ran successfully (a
deploy or rollback there that succeeded) or one recorded by `adopt` there with its
reason: its *known-good* releases. A release only another environment ran is not one:
environments differ in what they ask before a deploy (staging often needs no approval),
so accepting another environment's release would make the laxest environment a way
around production's review; moving a release from one environment to another is a
deploy. Anything else needs break-glass (services/rollback.py).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from ..core.refs import format_version, version_from_tag
from ..store import records
from ..store.db import Store


@dataclass(frozen=True)
class RollbackChoice:
    """Where a rollback of an environment goes, and what it replaces."""

    target_version: str
    target_sha: str
    previous_version: str
    previous_sha: str
    hotfix_id: int | None
    hotfix: str | None
    incident: str | None


@dataclass(frozen=True)
class Release:
    """A release an environment ran, and the record that says so."""

    version: str
    sha: str
    how: str  # "deployed by D-3", "rolled back to by D-5", "adopted by alice: …"
    at: str

    def label(self) -> str:
        return f"{self.version} ({self.how})"


def known_good(store: Store, env_name: str) -> Iterator[Release]:
    """Every release `env_name` ran successfully, newest first, once per commit: its
    deploys and rollbacks that succeeded, and what `adopt` recorded there. Lazily: a
    rollback's target is nearly always among the first, and a year of deploys is long
    (schema V8 keeps the environment's successful runs in order)."""
    adopted: list[Release] = []
    for a in store.all("SELECT actor, at, data FROM audit_events WHERE entity = 'environment' "
                       "AND entity_key = ? AND action = 'environment.adopted'", (env_name,)):
        after = json.loads(a["data"]).get("after") or {}
        reason = after.get("reason")
        how = f"adopted by {a['actor']}" + (f": {reason}" if reason else "")
        adopted.append(Release(str(after.get("version") or ""), str(after.get("sha") or ""),
                               how, a["at"]))
    adopted.sort(key=lambda r: r.at, reverse=True)
    # one run at a time per environment: newest id first is newest finished first
    ran = (Release(r["version"], r["sha"], f"{_HOW[r['kind']]} {r['key']}",
                   r["finished_at"] or "")
           for r in store.execute(
               "SELECT key, kind, version, sha, finished_at FROM deploys WHERE env = ? AND "
               "kind IN ('deploy', 'rollback') AND status = 'succeeded' ORDER BY id DESC",
               (env_name,)))
    seen: set[str] = set()
    for r in heapq.merge(ran, adopted, key=lambda r: r.at, reverse=True):
        if r.sha and r.sha not in seen:
            seen.add(r.sha)
            yield r


_HOW = {"deploy": "deployed by", "rollback": "rolled back to by"}


def version_of(to: str, tag_format: str) -> str:
    """`1.4.1`, `v1.4.1` or the release's tag (by [hotfix] tag_format) → `1.4.1`."""
    v = version_from_tag(to, tag_format)
    return format_version(v) if v else to.removeprefix("v")


def targets(store: Store, env_name: str) -> Iterator[Release]:
    """Where `env_name` may be rolled back to: its known-good releases but the one it runs
    (newest first, lazily)."""
    current = records.environment_row(store, env_name)
    now = current["sha"] if current is not None else None
    return (r for r in known_good(store, env_name) if r.sha != now)


def target(store: Store, env_name: str, version: str) -> Release | None:
    """Release `version` if it is a rollback target of `env_name`."""
    return next((r for r in targets(store, env_name) if r.version == version), None)


def not_a_target(store: Store, env_name: str, version: str) -> str:
    """Why `version` is no rollback target of `env_name`, with the valid ones."""
    current = records.environment_row(store, env_name)
    if current is not None and current["version"] == version:
        return f"{env_name} runs {version} now; there is nothing to roll back to there"
    elsewhere = sorted({r["env"] for r in store.all(
        "SELECT env FROM deploys WHERE env <> ? AND version = ? AND status = 'succeeded' AND "
        "kind IN ('deploy', 'rollback') UNION SELECT entity_key FROM audit_events WHERE "
        "entity = 'environment' AND action = 'environment.adopted' AND entity_key <> ? AND "
        "json_extract(data, '$.after.version') = ?", (env_name, version, env_name, version))})
    where = f" (it ran on {', '.join(elsewhere)})" if elsewhere else ""
    valid = "; ".join(r.label() for r in islice(targets(store, env_name), 10)) or "none"
    return (f"{env_name}: {version} never ran on {env_name}{where}; a rollback goes back only "
            f"to a release {env_name} ran (valid targets: {valid}), or needs break-glass "
            f"(--to {version} --break-glass REASON)")


def rollback_target(store: Store, env_name: str, to: str | None = None
                    ) -> tuple[str, str] | None:
    """(version, sha) of the last known-good release before the current one, never one it
    was rolled back from (or of release `to`, if it is a target)."""
    if to is not None:
        found = target(store, env_name, to)
        return (found.version, found.sha) if found else None
    rolled_away = {r["previous_sha"] for r in store.all(
        "SELECT previous_sha FROM deploys WHERE env = ? AND kind = 'rollback'", (env_name,))}
    for r in targets(store, env_name):
        if r.sha not in rolled_away:
            return r.version, r.sha
    return None


def unsettled_run(store: Store, env_name: str, current):
    """The newest deploy or rollback of the environment if it did not succeed after the
    recorded release (it may have left the environment half-changed), else None. A
    break-glass rollback is not tried again without break-glass."""
    last = store.one(
        "SELECT d.id, d.kind, d.status, d.sha, d.version, d.previous_sha, "
        "d.previous_version, d.break_glass, h.id AS hotfix_id, h.key AS hotfix_key, "
        "i.key AS incident_key FROM deploys d LEFT JOIN hotfixes h ON h.id = d.hotfix_id "
        "LEFT JOIN incidents i ON i.id = h.incident_id WHERE d.env = ? AND d.kind IN "
        "('deploy', 'rollback') ORDER BY d.id DESC LIMIT 1", (env_name,))
    if last is None or last["status"] == "succeeded":
        return None
    if current["deploy_id"] is not None and last["id"] <= current["deploy_id"]:
        return None
    if last["kind"] == "rollback" and last["break_glass"]:
        return None
    return last


def choose_rollback(store: Store, env_name: str, to: str | None = None,
                    unlisted: tuple[str, str] | None = None) -> RollbackChoice | None:
    """What rolling `env_name` back does now; None when nothing is recorded there or no
    target is found. `to` (a version) must be a rollback target (`targets`), unless
    `unlisted` gives its (version, sha) for a break-glass rollback."""
    current = records.environment_row(store, env_name)
    if current is None or not current["sha"]:
        return None
    last = unsettled_run(store, env_name, current) if to is None else None
    if last is not None:
        return _retry(current, last)
    target = unlisted or rollback_target(store, env_name, to)
    if target is None:
        return None
    hotfix = store.one("SELECT h.id, h.key, i.key AS incident_key FROM deploys d JOIN "
                       "hotfixes h ON h.id = d.hotfix_id JOIN incidents i ON i.id = "
                       "h.incident_id WHERE d.id = ?", (current["deploy_id"],)) \
        if current["deploy_id"] else None
    return RollbackChoice(*target, current["version"] or "", current["sha"],
                          *(_hotfix_of(hotfix) if hotfix else (None, None, None)))


def _hotfix_of(row) -> tuple[int | None, str | None, str | None]:
    return row["id"], row["key"], row["incident_key"]


def _retry(current, last) -> RollbackChoice:
    """A rollback that did not finish: try it again; a deploy that did not finish: put
    the recorded release back."""
    if last["kind"] == "rollback":
        return RollbackChoice(last["version"], last["sha"], last["previous_version"],
                              last["previous_sha"], last["hotfix_id"], last["hotfix_key"],
                              last["incident_key"])
    return RollbackChoice(current["version"] or "", current["sha"], last["version"],
                          last["sha"], last["hotfix_id"], last["hotfix_key"],
                          last["incident_key"])


def break_glass_lock(store: Store, env_name: str, lock_reason: str
                     ) -> tuple[str, str, str] | None:
    """(run, name, OS account) of the break-glass rollback whose lock `env_name` holds, if
    it holds one (rollback locks read "rolled back (D-n): …")."""
    run = store.one("SELECT key, started_by FROM deploys WHERE env = ? AND kind = 'rollback' "
                    "AND break_glass = 1 ORDER BY id DESC LIMIT 1", (env_name,))
    if run is None or not lock_reason.startswith(f"rolled back ({run['key']})"):
        return None
    event = store.one("SELECT actor, data FROM audit_events WHERE entity = 'deploy' AND "
                      "entity_key = ? AND action = 'rollback.started'", (run["key"],))
    data = json.loads(event["data"]) if event is not None else {}
    account = (data.get("after") or {}).get("account") or data.get("os_account") or ""
    return run["key"], run["started_by"], str(account)
