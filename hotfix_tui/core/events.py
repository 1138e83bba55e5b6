"""Events: what people are told, derived from the audit trail.

Every state change already appends an audit event in the transaction that makes it, so
the audit trail is the ordered, append-only record of everything that happened. An
*event* is the public, stable view of one audit event: a name from EVENTS, the
audit event's id as its sequence number, who, when, what it concerns, a one-line
summary, and `data` with exactly the fields listed for its name (null when not known).
Hooks receive it on stdin and `hotfix watch --json` prints it.

Only listed fields are copied from the audit data, so nothing else stored there
(deploy argv, paths) ever reaches a hook. One audit event gives at most two events:
a break-glass deploy is both `deploy.started` and `break_glass.used`.

Pure: no I/O.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from .timeline import one_line

SCHEMA_VERSION = 1

_RUN = ("outcome", "exit_code", "signal", "version", "sha")

# name → the fields of its `data`, in order. docs/HOOKS.md documents each one.
EVENTS: dict[str, tuple[str, ...]] = {
    "incident.opened": ("title", "severity", "service", "commander", "source"),
    "incident.mitigated": ("previous_status", "source"),
    "incident.resolved": ("previous_status", "source"),
    "incident.reopened": ("previous_status", "source"),
    "incident.reassigned": ("previous_commander", "commander"),
    "hotfix.started": ("title", "version", "base_ref", "base_sha", "branch"),
    "hotfix.submitted": ("head_sha", "scope_accepted", "violations"),
    "hotfix.approved": ("approvers", "sha", "comment", "retroactive", "note"),
    "hotfix.rejected": ("comment",),
    "approval.stale": ("approver", "approved_sha", "reason"),
    "approval.valid_again": ("approver", "approved_sha", "reason"),
    "hotfix.finished": ("tag", "sha", "branches", "skip_verify_reason"),
    "hotfix.abandoned": ("reason",),
    "deploy.started": ("version", "sha", "break_glass", "break_glass_reason"),
    "deploy.finished": _RUN,
    "deploy.cancelled": (*_RUN, "note"),
    "deploy.interrupted": (*_RUN, "note"),
    "deploy.survivors": ("pids", "accounts"),
    "deploy.survivors_cleared": ("pids", "reason"),
    "verify.passed": (),
    "verify.failed": _RUN,
    "rollback.started": ("from_version", "from_sha", "version", "sha", "reason", "break_glass",
                         "break_glass_reason"),
    "rollback.finished": _RUN,
    "environment.locked": ("reason",),
    "environment.unlocked": ("reason", "previous_reason", "previously_locked_by"),
    "break_glass.used": ("version", "sha", "reason"),
    "audit.verify_failed": ("bad_seq", "problem", "events_checked"),
}
EVENT_NAMES = tuple(EVENTS)
# The top-level fields of every event document, in order (docs/HOOKS.md).
FIELDS = ("schema_version", "seq", "event", "at", "actor", "actor_verified", "incident",
          "hotfix", "run", "env", "summary", "data")
# What `{…}` may name in a hook's argv.
PLACEHOLDERS = ("event", "seq", "at", "actor", "incident", "hotfix", "run", "env", "summary")

_RUN_ENDS = ("succeeded", "failed", "timed_out", "cancelled", "interrupted")


@dataclass(frozen=True)
class Event:
    """One step in a run's or a hotfix's timeline."""

    seq: int
    name: str
    at: str
    actor: str
    actor_verified: bool
    summary: str
    incident: str | None = None
    hotfix: str | None = None
    run: str | None = None
    env: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The document hooks read on stdin and `hotfix watch --json` prints."""
        return {
            "schema_version": SCHEMA_VERSION, "seq": self.seq, "event": self.name,
            "at": self.at, "actor": self.actor, "actor_verified": self.actor_verified,
            "incident": self.incident, "hotfix": self.hotfix, "run": self.run,
            "env": self.env, "summary": self.summary,
            "data": {k: self.data.get(k) for k in EVENTS[self.name]},
        }

    def placeholders(self) -> dict[str, str]:
        """Values for `{…}` in a hook's argv ('' when not known)."""
        values = {"event": self.name, "seq": str(self.seq), "at": self.at,
                  "actor": self.actor, "incident": self.incident, "hotfix": self.hotfix,
                  "run": self.run, "env": self.env, "summary": self.summary}
        return {k: "" if v is None else str(v) for k, v in values.items()}


def is_selector(key: str) -> bool:
    """A [hooks] key: one or more patterns separated by commas."""
    return all(is_pattern(part.strip()) for part in key.split(","))


def is_pattern(text: str) -> bool:
    """An event name, `*`, or a family such as `deploy.*`."""
    if text == "*":
        return True
    if text.endswith(".*"):
        family = text[:-2]
        return any(n.split(".", 1)[0] == family for n in EVENT_NAMES)
    return text in EVENTS


def matches(key: str, name: str) -> bool:
    """Does the [hooks] key (`deploy.finished`, `deploy.*`, `*`, or several of them
    separated by commas) select the event `name`?"""
    return any(fnmatch.fnmatchcase(name, part.strip()) for part in key.split(","))


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _short(sha: Any) -> str:
    return str(sha or "")[:10]


def derive(ev) -> list[Event]:
    """The events one audit event (core.models.AuditEvent) stands for; most stand for none."""
    before, after, extra = _dict(ev.before), _dict(ev.after), _dict(ev.extra)
    made = _derive(ev.action, ev.entity, ev.entity_key, ev.actor, before, after, extra)
    out = []
    for name, summary, data, where in made:
        out.append(Event(
            seq=ev.id, name=name, at=ev.at, actor=ev.actor,
            actor_verified=bool(ev.actor_verified), summary=one_line(summary),
            incident=ev.incident, hotfix=ev.hotfix, run=where.get("run"),
            env=where.get("env"), data=data))
    return out


_Made = tuple[str, str, dict, dict]


def _derive(action: str, entity: str, key: str, actor: str, before: dict, after: dict,
            extra: dict) -> list[_Made]:
    family = action.split(".", 1)[0]
    if family == "incident":
        return _incident(action, key, actor, before, after, extra)
    if entity == "deploy":
        return _run(action, key, actor, before, after, extra)
    if action == "verify.passed":  # verified on an environment before the gate one
        env = after.get("env")
        return [("verify.passed", f"{key} verified on {env} by {actor}", {}, {"env": env})]
    if family in ("hotfix", "approval"):
        return _hotfix(action, key, actor, before, after, extra)
    if family == "environment":
        return _environment(action, key, actor, before, after)
    if action == "audit.verify_failed":
        return [("audit.verify_failed",
                 f"audit chain broken at event {after.get('bad_seq')}: {after.get('problem')}",
                 after, {})]
    return []


def _incident(action: str, key: str, actor: str, before: dict, after: dict,
              extra: dict) -> list[_Made]:
    source = extra.get("source")
    by = f" by {source}" if source else f" by {actor}"
    if action == "incident.opened":
        data = {**after, "source": source}
        service = f" ({after.get('service')})" if after.get("service") else ""
        return [("incident.opened",
                 f"{key} opened: SEV{after.get('severity')} {after.get('title', '')}"
                 f"{service}{by}", data, {})]
    names = {"incident.mitigated": "incident.mitigated", "incident.resolved":
             "incident.resolved", "incident.open": "incident.reopened"}
    if action in names:
        name = names[action]
        data = {"previous_status": before.get("status"), "source": source}
        return [(name, f"{key} {name.split('.')[1]}{by}", data, {})]
    if action == "incident.commander":
        data = {"previous_commander": before.get("commander"),
                "commander": after.get("commander")}
        return [("incident.reassigned",
                 f"{key} commander {before.get('commander')} → {after.get('commander')} "
                 f"(by {actor})", data, {})]
    return []


# An approval stopped counting, or counts again: the content moved away or came back.
_STANDING = {"approval.stale": "went stale", "approval.valid_again": "counts again"}


def _hotfix(action: str, key: str, actor: str, before: dict, after: dict,
            extra: dict) -> list[_Made]:
    if action == "hotfix.started":
        return [("hotfix.started",
                 f"{key} started by {actor}: {after.get('title', '')} ({after.get('version')} "
                 f"from {after.get('base_ref')})", after, {})]
    if action == "hotfix.submitted":
        violations = extra.get("violations")
        data = {"head_sha": extra.get("head"), "scope_accepted": extra.get("scope_accepted"),
                "violations": [v.get("rule") for v in violations if isinstance(v, dict)]
                if isinstance(violations, list) else None}
        return [("hotfix.submitted",
                 f"{key} needs a review: submitted by {actor} at {_short(extra.get('head'))}",
                 data, {})]
    if action == "hotfix.approved":
        data = {"approvers": extra.get("approvers"), "sha": extra.get("sha"),
                "comment": extra.get("comment"), "retroactive": False,
                "note": extra.get("note")}
        who = ", ".join(extra.get("approvers") or []) or actor
        return [("hotfix.approved", f"{key} approved by {who}", data, {})]
    if action == "approval.retroactive":
        data = {"approvers": [actor], "sha": after.get("sha"), "comment": after.get("comment"),
                "retroactive": True}
        return [("hotfix.approved",
                 f"{key} break-glass deploy approved after the fact by {actor}", data, {})]
    if action == "hotfix.rejected":
        return [("hotfix.rejected", f"{key} rejected by {actor}: {extra.get('comment', '')}",
                 {"comment": extra.get("comment")}, {})]
    if action in _STANDING:
        data = {"approver": before.get("approver"), "approved_sha": before.get("sha"),
                "reason": after.get("reason")}
        return [(action, f"{key} approval by {before.get('approver')} {_STANDING[action]}: "
                 f"{after.get('reason')}", data, {})]
    if action == "hotfix.finished":
        return [("hotfix.finished", f"{key} finished by {actor}: tagged {extra.get('tag')}",
                 extra, {})]
    if action == "hotfix.abandoned":
        return [("hotfix.abandoned", f"{key} abandoned by {actor}: {extra.get('reason', '')}",
                 {"reason": extra.get("reason")}, {})]
    if action == "hotfix.verified":
        env = after.get("env")
        return [("verify.passed", f"{key} verified on {env} by {actor}", {}, {"env": env})]
    return []


def _run(action: str, key: str, actor: str, before: dict, after: dict,
         extra: dict) -> list[_Made]:
    kind, _, what = action.partition(".")
    env = after.get("env")
    where = {"run": key, "env": env}
    version = after.get("version")
    if action in ("deploy.started", "deploy.break_glass"):
        glass = action == "deploy.break_glass"
        reason = after.get("break_glass_reason")
        data = {"version": version, "sha": after.get("sha"), "break_glass": glass,
                "break_glass_reason": reason}
        loud = "BREAK-GLASS " if glass else ""
        made = [("deploy.started", f"{key}: {loud}deploy of {version} to {env} started by "
                 f"{actor}", data, where)]
        return made + _glass(glass, f"{actor} deploys {version} to {env} without approval "
                                    f"({key})", after, where)
    if action == "rollback.started":
        return _rollback_started(key, actor, before, after, where)
    if what.startswith("survivors"):
        return _survivors(action, key, actor, before, after, where)
    if what not in _RUN_ENDS or "status" not in after:
        return []
    data = {"outcome": what, "exit_code": after.get("exit_code"),
            "signal": after.get("signal"), "version": version, "sha": after.get("sha"),
            "note": extra.get("note")}
    detail = (f" (signal {after['signal']})" if after.get("signal") else
              f" (exit {after['exit_code']})" if after.get("exit_code") not in (None, 0) else "")
    text = f"{key}: {kind} of {version} to {env} {what.replace('_', ' ')}{detail}"
    if kind == "deploy":
        name = {"cancelled": "deploy.cancelled", "interrupted": "deploy.interrupted"}.get(
            what, "deploy.finished")
        return [(name, text, data, where)]
    if kind == "rollback":
        return [("rollback.finished", text, data, where)]
    if kind == "verify" and what != "succeeded" and what != "cancelled":
        return [("verify.failed", f"{key}: verification of {version} on {env} "
                 f"{what.replace('_', ' ')}{detail}", data, where)]
    return []


def _rollback_started(key: str, actor: str, before: dict, after: dict,
                      where: dict) -> list[_Made]:
    version, glass = after.get("version"), bool(after.get("break_glass"))
    reason = after.get("break_glass_reason")
    data = {"from_version": before.get("version"), "from_sha": before.get("sha"),
            "version": version, "sha": after.get("sha"), "reason": after.get("reason"),
            "break_glass": glass, "break_glass_reason": reason}
    loud = "BREAK-GLASS " if glass else ""
    made = [("rollback.started", f"{key}: {loud}rollback from {before.get('version')} to "
             f"{version} started by {actor}: {after.get('reason', '')}", data, where)]
    return made + _glass(glass, f"{actor} rolls {where.get('env')} back to {version}, a "
                                f"release it never ran ({key})", after, where)


def _glass(used: bool, what: str, after: dict, where: dict) -> list[_Made]:
    """`break_glass.used`, beside the start of a run that broke the glass."""
    if not used:
        return []
    reason = after.get("break_glass_reason")
    return [("break_glass.used", f"BREAK-GLASS: {what}: {reason}",
             {"version": after.get("version"), "sha": after.get("sha"), "reason": reason},
             where)]


def _survivors(action: str, key: str, actor: str, before: dict, after: dict,
               where: dict) -> list[_Made]:
    """Processes a run's stop could not end (pids and accounts only: a command line may
    carry a deploy's arguments, which never reach a hook), and their clearing."""
    def pids(side: dict) -> list:
        found = side.get("survivors")
        return [s.get("pid") for s in found if isinstance(s, dict)] if isinstance(
            found, list) else []

    if action == "deploy.survivors":
        accounts = sorted({str(s.get("account")) for s in after.get("survivors") or []
                           if isinstance(s, dict)})
        return [("deploy.survivors", f"{key}: processes {pids(after)} could not be stopped; "
                 f"they hold {where.get('env')}", {"pids": pids(after), "accounts": accounts},
                 where)]
    if action == "deploy.survivors_cleared":
        return [("deploy.survivors_cleared", f"{key}: survivors {pids(before)} cleared by "
                 f"{actor}: {after.get('reason')}",
                 {"pids": pids(before), "reason": after.get("reason")}, where)]
    return []


def _environment(action: str, key: str, actor: str, before: dict,
                 after: dict) -> list[_Made]:
    where = {"env": key}
    if action == "environment.locked":
        return [("environment.locked", f"{key} locked by {actor}: {after.get('reason', '')}",
                 {"reason": after.get("reason")}, where)]
    if action == "environment.unlocked":
        data = {"reason": after.get("reason"), "previous_reason": before.get("reason"),
                "previously_locked_by": before.get("locked_by")}
        return [("environment.unlocked",
                 f"{key} unlocked by {actor}: {after.get('reason', '')}", data, where)]
    return []
