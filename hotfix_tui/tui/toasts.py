"""What the console tells its user as it happens, from the same events hooks receive."""

from __future__ import annotations

from dataclasses import dataclass

from textual.notifications import Notification

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


# ---- showing them: one toast per kind of news, never a pile ---------------------------------

MAX_TOASTS = 3  # more than this at 80x24 and they crowd out what the user works on
NARROW_TOASTS = 2  # below 81 columns


@dataclass
class Toast(Notification):
    """A notification that knows how to read when it happens several times over."""

    plural: str = ""  # "{n} items ticked": what `n` of these read as together
    lead: str = ""  # what the message starts with ("checklist: "), counted or not
    count: int = 1
    base: str = ""  # the text of one of them (the message reads "… (×3)" once counted)

    @property
    def one(self) -> str:
        return self.base or self.message


def make_toast(message: str, title: str = "", severity: str = "information",
               timeout: float = 5.0, plural: str = "") -> Toast:
    """One line where it fits: the title leads the message (a toast's own title line
    costs a row of the screen at 80x24); a list keeps the title on a line of its own."""
    lead = "" if not title else (f"{title}\n" if "\n" in message else f"{title}: ")
    return Toast(lead + message, "", severity, timeout, markup=False,  # type: ignore[arg-type]
                 plural=plural, lead=lead)


def coalesce(shown: list[Notification], new: Notification, limit: int = MAX_TOASTS
             ) -> tuple[list[Notification], Notification]:
    """(the notifications `new` replaces, what to show instead). News of the same kind
    (same plural form, or the very same text) becomes one toast with a count; past
    `limit` toasts the oldest go, errors last."""
    plural = getattr(new, "plural", "")
    same = [n for n in shown if n.severity == new.severity and (
        (plural and getattr(n, "plural", "") == plural)
        or (not plural and _one(n) == new.message))]
    if same:
        count = sum(getattr(n, "count", 1) for n in same) + 1
        lead = getattr(new, "lead", "")
        text = lead + plural.format(n=count) if plural else f"{new.message} (×{count})"
        new = Toast(text, new.title, new.severity, new.timeout, markup=False,  # type: ignore[arg-type]
                    plural=plural, lead=lead, count=count, base=_one(new))
    rest = [n for n in shown if n not in same]
    over = len(rest) + 1 - limit
    dropped = sorted(rest, key=lambda n: (n.severity == "error", n.raised_at))[:max(0, over)]
    return [*same, *dropped], new


def _one(n: Notification) -> str:
    return n.one if isinstance(n, Toast) else n.message
