"""The release path: environments in promotion order, and what a deploy to one of them
still needs from the environments it requires (`[environments.NAME] requires` and
`min_soak_s`). Pure: plain values in, reasons out.

A required environment counts when the hotfix's head (the same content) was deployed
there successfully, has not been rolled back there since, and its verification there
passed, at least `min_soak_s` seconds ago.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from .models import EnvVerification, VerificationState


class PromotionCycle(ValueError):
    """`requires` leads back to an environment: there is no order."""

    def __init__(self, path: Sequence[str]) -> None:
        super().__init__(" → ".join(path))
        self.path = tuple(path)


@dataclass(frozen=True)
class Rule:
    """An environment's promotion rule, from its config table."""

    env: str
    requires: tuple[str, ...] = ()
    min_soak_s: float = 0.0


@dataclass(frozen=True)
class Attempt:
    """The newest deploy run of the hotfix to an environment, whatever its outcome."""

    key: str
    status: str
    sha: str


def find_cycle(rules: Sequence[Rule]) -> tuple[str, ...] | None:
    """A `requires` path that comes back to where it started (None: there is none)."""
    needs = {r.env: r.requires for r in rules}
    done: set[str] = set()

    def walk(name: str, path: list[str]) -> tuple[str, ...] | None:
        if name in path:
            return (*path[path.index(name):], name)
        if name in done or name not in needs:
            return None
        for req in needs[name]:
            found = walk(req, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    for r in rules:
        found = walk(r.env, [])
        if found:
            return found
    return None


def rule_problems(rules: Sequence[Rule]) -> list[tuple[str, str, str]]:
    """(environment, key, problem) for every rule that makes no release path: a required
    environment that is not configured, itself, twice, a soak without `requires`, and a
    circle."""
    names = [r.env for r in rules]
    out = []
    for r in rules:
        for req in r.requires:
            if req == r.env:
                out.append((r.env, "requires", f"{r.env} cannot require itself"))
            elif req not in names:
                out.append((r.env, "requires", f"unknown environment {req!r} (known: "
                            f"{', '.join(names)})"))
        if len(set(r.requires)) != len(r.requires):
            out.append((r.env, "requires", "names an environment twice"))
        if r.min_soak_s and not r.requires:
            out.append((r.env, "min_soak_s", "needs requires: the soak is counted from the "
                        "verification of a required environment"))
    cycle = find_cycle(rules) if not out else None
    if cycle:
        out.append((cycle[0], "requires",
                    "the release path goes round in a circle: " + " → ".join(cycle)))
    return out


def promotion_order(rules: Sequence[Rule], last: str | None = None) -> tuple[str, ...]:
    """Every environment after those it requires; otherwise in the order given (the
    config's), with `last` (the production environment) as late as its dependents let
    it be."""
    cycle = find_cycle(rules)
    if cycle:
        raise PromotionCycle(cycle)
    names = [r.env for r in rules]
    needs = {r.env: {q for q in r.requires if q in names} for r in rules}
    out: list[str] = []
    while len(out) < len(names):
        ready = [n for n in names if n not in out and needs[n] <= set(out)]
        out.append(next((n for n in ready if n != last), ready[0]))
    return tuple(out)


def duration(seconds: float) -> str:
    """45 s, 2 min, 2 min 30 s, 1 h 5 min."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    m, sec = divmod(s, 60)
    if m < 60:
        return f"{m} min" + (f" {sec} s" if sec and m < 10 else "")
    h, m = divmod(m, 60)
    return f"{h} h" + (f" {m} min" if m else "")


def live(v: EnvVerification | None, head_sha: str) -> bool:
    """The environment got exactly this content, successfully, and kept it."""
    return v is not None and v.sha == head_sha and v.rolled_back_by is None


def blockers(key: str, rule: Rule, head_sha: str,
             verifications: Mapping[str, EnvVerification],
             attempts: Mapping[str, Attempt], now: datetime) -> list[str]:
    """Why `rule.env` may not take hotfix `key` at `head_sha` yet (empty: it may)."""
    out = []
    for req in rule.requires:
        why = _required(key, rule, req, head_sha, verifications.get(req), attempts.get(req),
                        now)
        if why:
            out.append(why)
    return out


def _required(key: str, rule: Rule, req: str, head: str, v: EnvVerification | None,
              attempt: Attempt | None, now: datetime) -> str | None:
    first = f"{rule.env} requires {req} first"
    if v is None or v.sha != head:
        return f"{first}: {_not_there(key, req, head, v, attempt)}"
    if v.rolled_back_by:
        return (f"{first}: {key} was rolled back on {req} ({v.rolled_back_by}); deploy and "
                "verify it there again")
    verified = f"{rule.env} requires {req} verified"
    if v.state is VerificationState.PENDING:
        return (f"{verified}: {key} runs there but is not verified yet "
                f"(hotfix verify {key} --env {req})")
    if v.state is VerificationState.FAILED:
        return (f"{verified}: its verification there failed"
                + (f" ({v.run})" if v.run else "") + f"; verify it again (hotfix verify {key} "
                f"--env {req})")
    return _soak(rule, req, v, now)


def _not_there(key: str, req: str, head: str, v: EnvVerification | None,
               attempt: Attempt | None) -> str:
    if attempt is not None and attempt.sha == head and attempt.status == "running":
        return f"deploy {attempt.key} of {key} to {req} is still running"
    if attempt is not None and attempt.sha == head and attempt.status != "succeeded":
        how = {"cancelled": "was cancelled", "interrupted": "was interrupted"}.get(
            attempt.status, attempt.status.replace("_", " "))
        return (f"the deploy of {key} to {req} {how} ({attempt.key}); deploy it there "
                f"again (hotfix deploy {key} --env {req})")
    if v is not None:
        return (f"{req} got an earlier head of {key} ({v.sha[:10]}), not this one "
                f"({head[:10]}); deploy it there (hotfix deploy {key} --env {req})")
    return f"{key} has not been deployed to {req} (hotfix deploy {key} --env {req})"


def _soak(rule: Rule, req: str, v: EnvVerification, now: datetime) -> str | None:
    if not rule.min_soak_s or v.verified_at is None:
        return None
    waited = (now - _parse(v.verified_at)).total_seconds()
    left = rule.min_soak_s - waited
    if left <= 0:
        return None
    return (f"{rule.env} requires {req} to soak: {req} verified {duration(waited)} ago; "
            f"soak {duration(rule.min_soak_s)} ({duration(math.ceil(left))} to go)")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
