"""What the audit chain says the records should be. Pure: rows and events in, problems out.

Every change commits with its audit event, so each record can be derived from the chain:
a hotfix exists once `hotfix.started` says so and is in the state its last state event
gave it; an incident's status, an environment's lock and release, a run's outcome and an
approval's content likewise. A row that no event backs, or that disagrees with the chain,
was written behind hotfix's back (plain SQL): `audit verify` names it, and a deploy does
not rely on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .models import AuditEvent


@dataclass(frozen=True)
class Problem:
    """One thing the database says that its audit chain does not back."""

    kind: str  # hotfix | incident | environment | run | approval | chain | anchor
    key: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key or None, "problem": self.text}

    def __str__(self) -> str:
        return f"{self.key}: {self.text}"


def _after(ev: AuditEvent) -> dict:
    return ev.after if isinstance(ev.after, dict) else {}


@dataclass
class ChainView:
    """The records as the chain tells them, built in one pass over the events."""

    hotfixes: dict[str, str]  # key → state
    retro_pending: dict[str, bool]
    incidents: dict[str, str]  # key → status
    locked: dict[str, bool]
    releases: dict[str, tuple[Any, Any]]  # env → (version, sha)
    runs: dict[str, str]  # key → status
    # (hotfix, env) → [sha, verification state, rolled back there]
    verifications: dict[tuple[str, str], list] = field(default_factory=dict)
    rollbacks: dict[str, tuple[str, str, Any]] = field(default_factory=dict)  # run → from


def read_chain(events: Iterable[AuditEvent]) -> ChainView:
    v = ChainView({}, {}, {}, {}, {}, {})
    for ev in events:
        reader = _READERS.get(ev.entity)
        if reader is not None:
            reader(v, ev, _after(ev))
        if ev.hotfix:
            _verification(v, ev, _after(ev))
        if ev.action == "deploy.break_glass" and ev.hotfix:
            v.retro_pending[ev.hotfix] = True
        elif ev.action == "approval.retroactive" and ev.hotfix:
            v.retro_pending[ev.hotfix] = False
    return v


def _hotfix(v: ChainView, ev: AuditEvent, after: dict) -> None:
    if ev.action == "hotfix.started":
        v.hotfixes[ev.entity_key] = "draft"
    if "state" in after and ev.entity_key in v.hotfixes:
        v.hotfixes[ev.entity_key] = str(after["state"])


def _incident(v: ChainView, ev: AuditEvent, after: dict) -> None:
    if ev.action == "incident.opened":
        v.incidents[ev.entity_key] = str(after.get("status", "open"))
    elif "status" in after and ev.entity_key in v.incidents:
        v.incidents[ev.entity_key] = str(after["status"])


def _environment(v: ChainView, ev: AuditEvent, after: dict) -> None:
    if ev.action == "environment.locked":
        v.locked[ev.entity_key] = True
    elif ev.action == "environment.unlocked":
        v.locked[ev.entity_key] = False
    elif ev.action in ("environment.deployed", "environment.adopted"):
        v.releases[ev.entity_key] = (after.get("version"), after.get("sha"))


def _run(v: ChainView, ev: AuditEvent, after: dict) -> None:
    if ev.action.endswith(".started") or ev.action == "deploy.break_glass":
        v.runs[ev.entity_key] = "running"
    elif "status" in after and ev.entity_key in v.runs:
        v.runs[ev.entity_key] = str(after["status"])


def _verification(v: ChainView, ev: AuditEvent, after: dict) -> None:
    """A hotfix on one environment: deployed (pending), passed, failed, rolled back, as
    deploy/verification.py records it."""
    a, hf = ev.action, ev.hotfix
    if a == "deploy.succeeded":
        v.verifications[(hf, after.get("env"))] = [after.get("sha"), "pending", False]
    elif a == "rollback.started":
        before = ev.before if isinstance(ev.before, dict) else {}
        v.rollbacks[ev.entity_key] = (hf, after.get("env"), before.get("sha"))
    elif a == "rollback.succeeded" and ev.entity_key in v.rollbacks:
        key, env, sha = v.rollbacks[ev.entity_key]
        gone = v.verifications.get((key, env))
        if gone is not None and gone[0] == sha:
            gone[2] = True
    elif a in ("verify.passed", "hotfix.verified") and "sha" not in after:
        for (key, _), r in v.verifications.items():  # before verification per environment:
            if key == hf:                            # verified wherever it had been deployed
                r[1] = "passed"
    else:
        _verified(v.verifications.get((hf, after.get("env"))), a, after)


def _verified(rec: list | None, action: str, after: dict) -> None:
    """Passed, failed or pending again, on an environment that still has the hotfix."""
    if rec is None or rec[2]:
        return
    same = rec[0] == after.get("sha")
    if action in ("verify.passed", "hotfix.verified") and same:
        rec[1] = "passed"
    elif action in ("verify.failed", "verify.timed_out") and same:
        rec[1] = "failed"
    elif action == "verify.unchecked":
        rec[1] = "pending"


def verification_problems(rows: Iterable[Any], v: ChainView) -> list[Problem]:
    """`env_verifications` rows (with the hotfix's key) that claim more than the chain
    backs: a deploy, content, a passed verification, or no rollback, it does not record."""
    out = []
    for r in rows:
        key, there = r["hotfix_key"], f"its verification on {r['env']}"
        chain = v.verifications.get((key, r["env"]))
        if chain is None:
            out.append(Problem("hotfix", key, f"{there} has no deploy there that an audit "
                               "event records"))
        elif chain[0] != r["sha"]:
            out.append(Problem("hotfix", key, f"{there} is of {str(r['sha'])[:12]} in the "
                               f"database, but of {str(chain[0])[:12]} by the audit chain"))
        elif r["state"] == "passed" and chain[1] != "passed":
            out.append(Problem("hotfix", key, f"{there} is passed in the database, but "
                               f"{chain[1]} by the audit chain"))
        elif r["rollback_id"] is None and chain[2]:
            out.append(Problem("hotfix", key, f"{there} is not rolled back in the database, "
                               "but rolled back by the audit chain"))
    return out


_READERS = {"hotfix": _hotfix, "incident": _incident, "environment": _environment,
            "deploy": _run}


def hotfix_problems(key: str, state: str, needs_retro: bool, v: ChainView) -> list[Problem]:
    if key not in v.hotfixes:
        return [Problem("hotfix", key, "no audit event records that it was started")]
    out = []
    if v.hotfixes[key] != state:
        out.append(Problem("hotfix", key, f"is {state} in the database, but the audit chain "
                           f"says {v.hotfixes[key]}"))
    if bool(needs_retro) != v.retro_pending.get(key, False):
        want = "pending" if v.retro_pending.get(key, False) else "not needed"
        have = "pending" if needs_retro else "not needed"
        out.append(Problem("hotfix", key, f"approval after a break-glass deploy is {have} in "
                           f"the database, but {want} by the audit chain"))
    return out


def lock_problem(env: str, locked: bool, v: ChainView) -> Problem | None:
    chain = v.locked.get(env, False)
    if bool(locked) != chain:
        return Problem("environment", env, f"is {'locked' if locked else 'unlocked'} in the "
                       f"database, but {'locked' if chain else 'unlocked'} by the audit chain")
    return None


def record_problems(hotfixes: Iterable[Any], incidents: Iterable[Any],
                    environments: Iterable[Any], runs: Iterable[Any],
                    v: ChainView) -> list[Problem]:
    """Every row (sqlite3.Row-like mappings) the chain does not back."""
    out: list[Problem] = []
    for h in hotfixes:
        out += hotfix_problems(h["key"], h["state"], bool(h["needs_retroactive_approval"]), v)
    for i in incidents:
        if i["key"] not in v.incidents:
            out.append(Problem("incident", i["key"], "no audit event records that it was "
                               "opened"))
        elif v.incidents[i["key"]] != i["status"]:
            out.append(Problem("incident", i["key"], f"is {i['status']} in the database, but "
                               f"the audit chain says {v.incidents[i['key']]}"))
    for e in environments:
        p = lock_problem(e["name"], bool(e["locked"]), v)
        if p is not None:
            out.append(p)
        release = v.releases.get(e["name"])
        if (e["sha"] or release) and release != (e["version"], e["sha"]):
            said = f"{release[0]} ({str(release[1])[:12]})" if release else "nothing"
            out.append(Problem("environment", e["name"], f"runs {e['version']} "
                               f"({str(e['sha'])[:12]}) in the database, but the audit chain "
                               f"says {said}"))
    for r in runs:
        if r["key"] not in v.runs:
            out.append(Problem("run", r["key"], "no audit event records that it started"))
        elif v.runs[r["key"]] != r["status"]:
            out.append(Problem("run", r["key"], f"is {r['status']} in the database, but the "
                               f"audit chain says {v.runs[r['key']]}"))
    return out
