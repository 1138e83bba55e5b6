"""Which new audit events concern the acting user, as toasts."""

from __future__ import annotations

# action → (text, severity), for events done by someone else
_OTHERS: dict[str, tuple[str, str]] = {
    "hotfix.submitted": ("{hotfix}: approval requested by {actor}", "information"),
    "approval.approved": ("{hotfix} approved by {actor}", "information"),
    "approval.retroactive": ("{hotfix}: break-glass deploy approved by {actor}",
                             "information"),
    "hotfix.rejected": ("{hotfix} rejected by {actor}: {comment}", "warning"),
    "rollback.started": ("{key}: rollback started by {actor}", "warning"),
    "deploy.break_glass": ("BREAK-GLASS deploy {key} of {hotfix} by {actor}", "warning"),
}
_RUN_KINDS = ("deploy", "rollback", "verify")
_RUN_ENDS = ("succeeded", "failed", "cancelled", "timed_out", "interrupted")


def _run_end(ev) -> tuple[str, str] | None:
    """A run of any kind ended, whoever started it."""
    kind, _, status = ev.action.partition(".")
    if kind not in _RUN_KINDS or status not in _RUN_ENDS or not ev.after:
        return None
    text = (f"{ev.entity_key}: {kind} {ev.after.get('version', '')} to "
            f"{ev.after.get('env', '')} {status}")
    return text, "information" if status == "succeeded" else "error"


def toasts_for(events, me: str) -> list[tuple[str, str]]:
    """Which new audit events concern the acting user, as (text, severity)."""
    out: list[tuple[str, str]] = []
    for ev in events:
        ended = _run_end(ev)
        if ended is not None:
            out.append(ended)
        elif ev.action in _OTHERS and ev.actor != me:
            text, severity = _OTHERS[ev.action]
            out.append((text.format(hotfix=ev.hotfix, actor=ev.actor, key=ev.entity_key,
                                    comment=ev.extra.get("comment", "")), severity))
    return out
