"""Audit events as one readable line each."""

from __future__ import annotations

from rich.text import Text

from .common import clean


def describe(ev) -> Text:
    a = ev.action
    after = ev.after if isinstance(ev.after, dict) else {}
    before = ev.before if isinstance(ev.before, dict) else {}
    subject = ev.hotfix or ev.entity_key
    style = ""
    if a == "incident.opened":
        text = f"{ev.entity_key} opened: {after.get('title', '')} (SEV{after.get('severity')})"
    elif a.startswith("incident.") and a.split(".")[1] in ("open", "mitigated", "resolved"):
        text = f"{ev.entity_key} {after.get('status')}"
    elif a == "incident.commander":
        text = f"commander {before.get('commander')} → {after.get('commander')}"
    elif a == "incident.note":
        text = f"note: {after.get('text', '')}"
        style = "italic"
    elif a == "hotfix.started":
        text = f"{subject} started: {after.get('title')} ({after.get('version')} from " \
               f"{after.get('base_ref')})"
    elif a == "hotfix.picked":
        commits = ev.extra.get("commits") or []
        text = f"{subject} picked {', '.join(c[:10] for c in commits) or 'resolved pick'}"
    elif a == "hotfix.pick_conflict":
        text = f"{subject} pick conflict in {', '.join(after.get('files') or [])}"
        style = "yellow"
    elif a == "hotfix.head_moved":
        text = f"{subject} head moved to {str(after.get('head'))[:10]}"
    elif a in ("checklist.checked", "checklist.unchecked"):
        mark = "ticked" if a.endswith(".checked") else "unticked"
        text = f"{subject} {mark} item {after.get('n')}: {after.get('text', '')}"
    elif a in ("verify.checked", "verify.unchecked"):
        text = f"{subject} verify item {after.get('n')} on {after.get('env')}: " \
               f"{after.get('text', '')}"
    elif a == "hotfix.edited":
        text = f"{subject} edited {', '.join(after)}"
    elif a == "hotfix.submitted":
        text = f"{subject} submitted for review"
        if ev.extra.get("scope_accepted"):
            text += f" (scope accepted: {ev.extra['scope_accepted']})"
    elif a == "approval.approved":
        text = f"{subject} approved at {str(after.get('sha'))[:10]}"
        style = "green"
    elif a == "approval.retroactive":
        text = f"{subject} approved after the fact (break-glass) at {str(after.get('sha'))[:10]}"
        style = "green"
    elif a == "approval.stale":
        text = f"{subject} approval by {before.get('approver')} went stale: {after.get('reason')}"
        style = "yellow"
    elif a == "hotfix.rejected":
        text = f"{subject} rejected: {ev.extra.get('comment', '')}"
        style = "red"
    elif a == "deploy.break_glass":
        text = f"{ev.entity_key} BREAK-GLASS deploy to {after.get('env')}: " \
               f"{after.get('break_glass_reason')}"
        style = "bold red"
    elif a.endswith(".started") and a.split(".")[0] in ("deploy", "verify", "rollback"):
        text = f"{ev.entity_key} {a.split('.')[0]} {after.get('version', '')} to " \
               f"{after.get('env', '')} started"
        if a == "rollback.started":
            text += f": {after.get('reason', '')}"
            style = "bold red"
    elif a.split(".")[0] in ("deploy", "verify", "rollback") and "status" in after:
        code = after.get("exit_code")
        sig = after.get("signal")
        extra = f" (signal {sig})" if sig else (f" (exit {code})" if code not in (None, 0)
                                                else "")
        text = f"{ev.entity_key} {a.split('.')[0]} {after.get('status')}{extra}"
        style = "green" if after.get("status") == "succeeded" else "red"
    elif a == "deploy.cancel_requested":
        text = f"{ev.entity_key} cancel requested"
        style = "yellow"
    elif a == "environment.locked":
        text = f"{ev.entity_key} locked: {after.get('reason')}"
        style = "bold red"
    elif a == "environment.unlocked":
        text = f"{ev.entity_key} unlocked: {after.get('reason')}"
    elif a == "environment.deployed":
        text = f"{ev.entity_key} now runs {after.get('version')}"
    elif a.startswith("hotfix.") and "state" in after:
        text = f"{subject} {before.get('state')} → {after.get('state')}"
    else:
        text = f"{ev.entity_key} {a}"
    return Text(clean(text), style=style)
