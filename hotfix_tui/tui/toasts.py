"""What the console tells its user as it happens, from the same events hooks receive."""

from __future__ import annotations

from ..core import events as ev

_RUN_ENDS = ("deploy.finished", "deploy.cancelled", "deploy.interrupted", "rollback.finished",
             "verify.passed", "verify.failed")


def toasts_for(audit_events: list, me: str) -> list[tuple[str, str]]:
    """Which new events concern the acting user `me`, as (text, severity): a review
    requested from them, their approval gone stale, a run's end, what others did loudly."""
    out: list[tuple[str, str]] = []
    for e in (e for a in audit_events for e in ev.derive(a)):
        toast = _toast(e, me)
        if toast:
            out.append(toast)
    return out


def _toast(e: ev.Event, me: str) -> tuple[str, str] | None:
    """The toast of one event for `me`, if it concerns them."""
    for rule in (_for_me, _by_others, _everyone):
        toast = rule(e, me)
        if toast:
            return toast
    return None


def _for_me(e: ev.Event, me: str) -> tuple[str, str] | None:
    """Events that name `me`: my approval went stale, I am the new commander."""
    data = e.data
    if e.name == "approval.stale" and data.get("approver") == me:
        return f"your approval of {e.hotfix} went stale: {data.get('reason')}", "warning"
    if e.name == "incident.reassigned" and data.get("commander") == me and e.actor != me:
        return f"you are now the commander of {e.incident} (handed over by {e.actor})", \
            "warning"
    return None


_BY_OTHERS = {"hotfix.approved": "information", "hotfix.rejected": "warning",
              "rollback.started": "warning", "break_glass.used": "warning",
              "environment.locked": "warning"}


def _by_others(e: ev.Event, me: str) -> tuple[str, str] | None:
    """What someone else did that the user should hear of."""
    if e.actor == me:
        return None
    if e.name == "hotfix.submitted":
        return f"{e.hotfix} needs your review (submitted by {e.actor})", "information"
    if e.name in _BY_OTHERS:
        return e.summary, _BY_OTHERS[e.name]
    return None


def _everyone(e: ev.Event, me: str) -> tuple[str, str] | None:
    """A run's end and a broken audit chain, whoever caused them."""
    if e.name in _RUN_ENDS:
        good = e.data.get("outcome", "succeeded") == "succeeded"
        return e.summary, "information" if good else "error"
    if e.name == "audit.verify_failed":
        return e.summary, "error"
    return None


def hook_warning(delivery) -> str:
    """The warning for a hook that failed on an event the user caused."""
    why = delivery.error or (delivery.stderr.splitlines()[0] if delivery.stderr else "")
    code = f"exit {delivery.exit_code}" if delivery.exit_code else delivery.status
    return f"hook {delivery.hook} for {delivery.event} #{delivery.seq}: {code}" + (
        f": {why}" if why else "")
