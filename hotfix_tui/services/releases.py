"""What an environment ran, and so what a rollback goes back to."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

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


def _candidates(store: Store, env_name: str) -> Iterator[tuple[str, str]]:
    """(version, sha) of the environment's releases, newest first: every deploy and
    rollback that succeeded, then what it was recorded as running (adopted)."""
    for r in store.all("SELECT version, sha FROM deploys WHERE env = ? AND kind IN "
                       "('deploy', 'rollback') AND status = 'succeeded' ORDER BY id DESC",
                       (env_name,)):
        yield r["version"], r["sha"]
    for a in store.all("SELECT data FROM audit_events WHERE entity = 'environment' AND "
                       "entity_key = ? AND action = 'environment.adopted' ORDER BY id DESC",
                       (env_name,)):
        after = json.loads(a["data"]).get("after") or {}
        yield after.get("version", ""), after.get("sha", "")


def rollback_target(store: Store, env_name: str, to: str | None = None
                    ) -> tuple[str, str] | None:
    """(version, sha) of the last known-good release before the current one (or of
    release `to`, if it ran there)."""
    current = records.environment_row(store, env_name)
    rolled_away = {r["previous_sha"] for r in store.all(
        "SELECT previous_sha FROM deploys WHERE env = ? AND kind = 'rollback'", (env_name,))}
    for version, sha in _candidates(store, env_name):
        if not sha:
            continue
        if to is not None:
            if version == to.removeprefix("v"):
                return version, sha
            continue
        if (current is None or sha != current["sha"]) and sha not in rolled_away:
            return version, sha
    return None


def unsettled_run(store: Store, env_name: str, current):
    """The newest deploy or rollback of the environment if it did not succeed after the
    recorded release (it may have left the environment half-changed), else None."""
    last = store.one(
        "SELECT d.id, d.kind, d.status, d.sha, d.version, d.previous_sha, "
        "d.previous_version, h.id AS hotfix_id, h.key AS hotfix_key, "
        "i.key AS incident_key FROM deploys d LEFT JOIN hotfixes h ON h.id = d.hotfix_id "
        "LEFT JOIN incidents i ON i.id = h.incident_id WHERE d.env = ? AND d.kind IN "
        "('deploy', 'rollback') ORDER BY d.id DESC LIMIT 1", (env_name,))
    if last is None or last["status"] == "succeeded":
        return None
    if current["deploy_id"] is not None and last["id"] <= current["deploy_id"]:
        return None
    return last


def choose_rollback(store: Store, env_name: str, to: str | None = None,
                    resolve_tag: Callable[[str], tuple[str, str]] | None = None
                    ) -> RollbackChoice | None:
    """What rolling `env_name` back does now; None when nothing is recorded there or no
    release is found to go back to. A `to` that never ran there is looked up with
    `resolve_tag` (version → (version, sha)), if given."""
    current = records.environment_row(store, env_name)
    if current is None or not current["sha"]:
        return None
    last = unsettled_run(store, env_name, current) if to is None else None
    if last is not None:
        return _retry(current, last)
    target = rollback_target(store, env_name, to)
    if target is None and to is not None and resolve_tag is not None:
        target = resolve_tag(to)
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
