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
    mine = e.actor == me
    name, data = e.name, e.data
    if name == "hotfix.submitted" and not mine:
        return f"{e.hotfix} needs your review (submitted by {e.actor})", "information"
    if name == "hotfix.approved" and not mine:
        return e.summary, "information"
    if name == "hotfix.rejected" and not mine:
        return e.summary, "warning"
    if name == "approval.stale" and data.get("approver") == me:
        return f"your approval of {e.hotfix} went stale: {data.get('reason')}", "warning"
    if name == "incident.reassigned" and data.get("commander") == me and not mine:
        return f"you are now the commander of {e.incident} (handed over by {e.actor})", \
            "warning"
    if name in _RUN_ENDS:
        good = data.get("outcome", "succeeded") == "succeeded"
        return e.summary, "information" if good else "error"
    if name in ("rollback.started", "break_glass.used", "environment.locked") and not mine:
        return e.summary, "warning"
    if name == "audit.verify_failed":
        return e.summary, "error"
    return None


def hook_warning(delivery) -> str:
    """The warning for a hook that failed on an event the user caused."""
    why = delivery.error or (delivery.stderr.splitlines()[0] if delivery.stderr else "")
    code = f"exit {delivery.exit_code}" if delivery.exit_code else delivery.status
    return f"hook {delivery.hook} for {delivery.event} #{delivery.seq}: {code}" + (
        f": {why}" if why else "")
