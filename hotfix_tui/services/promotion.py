"""A hotfix's release path: every environment in promotion order, what the hotfix is
there (deployed, its verification), what a deploy there still needs, and which one is
next. The deploy modal, `hotfix status --hotfix` and the hotfix screen read it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..clock import parse_iso
from ..core.models import EnvVerification, Hotfix, VerificationState
from ..core.promotion import duration, live
from ..store import records
from ..store.db import Store
from . import refusals
from .context import Context


@dataclass(frozen=True)
class Step:
    """One environment of the release path, for one hotfix."""

    env: str
    requires: tuple[str, ...]
    min_soak_s: float
    verification: EnvVerification | None  # the hotfix's record there, if it got there
    running: bool  # the environment runs exactly the hotfix's head, not rolled back
    blockers: tuple[str, ...]  # why a deploy there is refused now (empty: it may)
    needs: tuple[str, ...]  # what is still needed there (empty: done)
    next: bool = False  # the first environment that still needs something
    promotion: tuple[str, ...] = ()  # the release path's part of `blockers`
    locked: bool = False

    @property
    def state(self) -> str:
        """not_deployed | pending | passed | failed | rolled_back | outdated."""
        v = self.verification
        if v is None:
            return "not_deployed"
        if v.rolled_back_by:
            return "rolled_back"
        if not self.running:
            return "outdated"
        return str(v.state)

    def summary(self, now: datetime) -> str:
        """A few words on where the hotfix stands here, for lists."""
        v = self.verification
        if v is not None and self.running:
            if v.state is VerificationState.PASSED and v.verified_at:
                return f"verified {duration((now - parse_iso(v.verified_at)).total_seconds())}" \
                       " ago"
            if v.state is VerificationState.FAILED:
                return "verification FAILED" + (f" ({v.run})" if v.run else "")
            return "deployed, verify pending"
        if v is not None and v.rolled_back_by:
            return f"rolled back ({v.rolled_back_by})"
        if not self.blockers:
            return "ready to deploy"
        if self.promotion:  # "production requires staging verified: …" → the rule
            return self.promotion[0].split(": ", 1)[0].removeprefix(f"{self.env} ")
        return "locked" if self.locked else "refused"

    def to_json(self) -> dict[str, Any]:
        v = self.verification
        return {"env": self.env, "requires": list(self.requires),
                "min_soak_s": self.min_soak_s, "state": self.state,
                "verification": v.to_json() if v else None, "next": self.next,
                "blockers": list(self.blockers), "needs": list(self.needs)}


def release_path(ctx: Context, store: Store, hf: Hotfix,
                 break_glass: bool = False) -> list[Step]:
    """The hotfix on every configured environment, in promotion order, the next one
    marked. `hf` must carry its environments (records.get_hotfix)."""
    mine = {v.env: v for v in hf.environments}
    steps = []
    for name in ctx.config.promotion_order:
        env = ctx.config.env(name)
        v = mine.get(name)
        current = store.one("SELECT sha FROM environments WHERE name = ?", (name,))
        running = live(v, hf.head_sha) and current is not None and current["sha"] == v.sha
        blockers = refusals.break_glass(ctx, store, hf, env) if break_glass else \
            refusals.deploy(ctx, store, hf, env)
        blockers = blockers + refusals.env_busy(store, name)
        path = [] if break_glass else [b for b in refusals.promotion(ctx, store, hf, env)
                                       if b in blockers]
        steps.append(Step(name, env.requires, env.min_soak_s, v, running, tuple(blockers),
                          tuple(_needs(hf.key, name, v, running, blockers)), False,
                          tuple(path), bool(refusals.locked(store, name))))
    first = next((i for i, s in enumerate(steps) if s.needs), None)
    if first is not None:
        steps[first] = replace(steps[first], next=True)
    return steps


def _needs(key: str, env: str, v: EnvVerification | None, running: bool,
           blockers: list[str]) -> list[str]:
    if v is not None and running:
        if v.state is VerificationState.PASSED:
            return []
        again = " again" if v.state is VerificationState.FAILED else ""
        return [f"verify it{again} (hotfix verify {key} --env {env})"]
    return list(blockers) or [f"deploy it (hotfix deploy {key} --env {env})"]


def next_step(steps: list[Step]) -> Step | None:
    return next((s for s in steps if s.next), None)


def verify_target(ctx: Context, hf: Hotfix) -> str:
    """Where `hotfix verify` acts without --env: the first environment in promotion order
    that runs the hotfix unverified, else the last one that runs it, else production."""
    mine = {v.env: v for v in hf.environments if live(v, hf.head_sha)}
    order = [n for n in ctx.config.promotion_order if n in mine]
    waiting = [n for n in order if mine[n].state is not VerificationState.PASSED]
    if waiting:
        return waiting[0]
    return order[-1] if order else ctx.config.hotfix.production_env


def rollback_target(ctx: Context, hf: Hotfix) -> str:
    """The environment the hotfix screen rolls back: the last one in promotion order
    that still has the hotfix, else production."""
    mine = {v.env for v in hf.environments if not v.rolled_back_by}
    order = [n for n in ctx.config.promotion_order if n in mine]
    return order[-1] if order else ctx.config.hotfix.production_env


def hotfix_path(ctx: Context, key: str) -> list[Step]:
    """The release path of hotfix `key` (`hotfix status --hotfix KEY`)."""
    with ctx.reading() as store:
        return release_path(ctx, store, records.get_hotfix(store, key, policy=ctx.approval_policy))
