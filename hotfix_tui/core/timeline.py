"""Audit events as one readable line each, with a tone: the timeline's words.

Pure: the console wraps `describe` in a styled rich Text, the CLI prints it, and
the exported record quotes it. Every action the code base appends has a case here.
"""

from __future__ import annotations

from typing import Any

# Tones: "" (plain), "good", "bad", "warn".
GOOD, BAD, WARN = "good", "bad", "warn"

# Events the console shows loudly (bold): they change what production runs or who may.
LOUD_ACTIONS = frozenset({"deploy.break_glass", "rollback.started", "environment.locked"})
# The scribe's own words (shown in italics by the console).
NOTE_ACTIONS = frozenset({"incident.note"})
RUN_KINDS = ("deploy", "verify", "rollback")


def one_line(text: Any) -> str:
    """Stored text as one line with no control characters or escape sequences."""
    if text is None:
        return ""
    return "".join(c if c >= " " and c != "\x7f" else " " for c in str(text).replace("\n", " "))


def _short(sha: Any) -> str:
    return str(sha)[:10]


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def describe(ev) -> tuple[str, str]:
    """(text, tone) for one audit event (anything with action, entity_key, hotfix,
    before, after and extra, like core.models.AuditEvent)."""
    text, tone = _describe(ev.action, ev.entity_key, ev.hotfix or ev.entity_key,
                           _dict(ev.before), _dict(ev.after), _dict(ev.extra))
    return one_line(text), tone


def _describe(a: str, key: str, subject: str, before: dict, after: dict,
              extra: dict) -> tuple[str, str]:
    kind = a.split(".", 1)[0]
    rest = a.split(".", 1)[1] if "." in a else ""
    if kind == "incident":
        return _incident(a, rest, key, before, after, extra)
    if kind == "finish" or a == "hotfix.finished":
        return _finish(a, subject, after, extra)
    if a == "hotfix.started":
        return (f"{subject} started: {after.get('title')} ({after.get('version')} from "
                f"{after.get('base_ref')})"), ""
    if a == "hotfix.picked":
        commits = extra.get("commits") or []
        text = f"{subject} picked {', '.join(_short(c) for c in commits) or 'resolved pick'}"
        there = _already_there(extra.get("already_there"))
        return text + (f"; already there: {there}" if there else ""), ""
    if a == "hotfix.pick_empty":
        there = _already_there(after.get("already_there")) or "the change is already there"
        return f"{subject} nothing picked: {there}", ""
    if a == "hotfix.pick_skipped":
        return f"{subject} pick of {_short(after.get('commit'))} skipped by hand", WARN
    if a == "hotfix.pick_conflict":
        files = ", ".join(after.get("files") or []) or after.get("message") or "?"
        return f"{subject} pick conflict in {files}", WARN
    if a == "hotfix.pick_aborted":
        return f"{subject} pick aborted", ""
    if a == "hotfix.head_moved":
        return f"{subject} head moved to {_short(after.get('head'))}", ""
    if a == "hotfix.worktree_restored":
        return f"{subject} worktree restored at {after.get('worktree')}", ""
    if a in ("checklist.checked", "checklist.unchecked"):
        mark = "ticked" if a.endswith(".checked") else "unticked"
        return f"{subject} {mark} item {after.get('n')}: {after.get('text', '')}", ""
    if a in ("verify.checked", "verify.unchecked"):
        return (f"{subject} verify item {after.get('n')} on {after.get('env')}: "
                f"{after.get('text', '')}"), ""
    if a == "hotfix.edited":
        return f"{subject} edited {', '.join(after)}", ""
    if a == "hotfix.submitted":
        text = f"{subject} submitted for review"
        if extra.get("scope_accepted"):
            text += f" (scope accepted: {extra['scope_accepted']})"
        return text, ""
    if kind == "approval":
        return _approval(a, key, subject, before, after)
    if a == "hotfix.rejected":
        return f"{subject} rejected: {extra.get('comment', '')}", BAD
    if kind in RUN_KINDS or a == "deploy.cancel_requested":
        return _run(a, kind, rest, key, after)
    if kind == "environment":
        return _environment(rest, key, after)
    if a == "audit.verify_failed":
        return (f"audit chain broken at event {after.get('bad_seq')}: "
                f"{after.get('problem')}"), BAD
    if kind == "hotfix" and "state" in after:
        return f"{subject} {before.get('state')} → {after.get('state')}", ""
    return f"{key} {a}", ""


def _already_there(items: Any) -> str:
    """"1a2b3c4d5e (cherry-picked as …)" for each commit whose pick came out empty."""
    if not isinstance(items, list):
        return ""
    return ", ".join(f"{_short(i.get('sha'))} ({i.get('how')})" for i in items
                     if isinstance(i, dict))


def _incident(a: str, rest: str, key: str, before: dict, after: dict,
              extra: dict) -> tuple[str, str]:
    if rest == "opened":
        text = f"{key} opened: {after.get('title', '')} (SEV{after.get('severity')})"
        if extra.get("source"):
            text += f" from {extra['source']}"
        return text, ""
    if rest in ("open", "mitigated", "resolved"):
        text = f"{key} {after.get('status')}"
        if extra.get("source"):
            text += f" by {extra['source']}"
        return text, ""
    if rest == "commander":
        return f"commander {before.get('commander')} → {after.get('commander')}", ""
    if rest == "note":
        return f"note: {after.get('text', '')}", ""
    if rest == "updated":
        changes = ", ".join(f"{k} {before.get(k)} → {v}" for k, v in after.items())
        text = f"{key} updated: {changes}"
        if extra.get("source"):
            text += f" (from {extra['source']})"
        return text, ""
    return f"{key} {a}", ""


def _approval(a: str, key: str, subject: str, before: dict, after: dict) -> tuple[str, str]:
    if a == "approval.approved":
        return f"{subject} approved at {_short(after.get('sha'))}", GOOD
    if a == "approval.retroactive":
        return (f"{subject} approved after the fact (break-glass) at "
                f"{_short(after.get('sha'))}"), GOOD
    if a == "approval.stale":
        return (f"{subject} approval by {before.get('approver')} went stale: "
                f"{after.get('reason')}"), WARN
    return f"{key} {a}", ""


def _run(a: str, kind: str, rest: str, key: str, after: dict) -> tuple[str, str]:
    if a == "deploy.break_glass":
        return (f"{key} BREAK-GLASS deploy to {after.get('env')}: "
                f"{after.get('break_glass_reason')}"), BAD
    if a == "deploy.cancel_requested":
        return f"{key} cancel requested", WARN
    if rest == "started":
        text = f"{key} {kind} {after.get('version', '')} to {after.get('env', '')} started"
        if kind == "rollback":
            return f"{text}: {after.get('reason', '')}", BAD
        return text, ""
    if "status" in after:
        code = after.get("exit_code")
        sig = after.get("signal")
        detail = f" (signal {sig})" if sig else (f" (exit {code})" if code not in (None, 0)
                                                 else "")
        tone = GOOD if after.get("status") == "succeeded" else BAD
        return f"{key} {kind} {after.get('status')}{detail}", tone
    return f"{key} {a}", ""


def _environment(rest: str, key: str, after: dict) -> tuple[str, str]:
    if rest == "locked":
        return f"{key} locked: {after.get('reason')}", BAD
    if rest == "unlocked":
        return f"{key} unlocked: {after.get('reason')}", ""
    if rest == "deployed":
        return f"{key} now runs {after.get('version')}", ""
    if rest == "adopted":
        return f"{key} recorded as running {after.get('version')} ({_short(after.get('sha'))})", ""
    return f"{key} environment.{rest}", ""


def _finish(a: str, subject: str, after: dict, extra: dict) -> tuple[str, str]:
    branch = after.get("branch", "")
    if a == "finish.started":
        text = (f"{subject} finish started: tag {after.get('tag')}, forward-port to "
                f"{', '.join(after.get('branches') or []) or 'no branches'}")
        if after.get("skip_verify_reason"):
            return f"{text}; verification skipped: {after['skip_verify_reason']}", WARN
        return text, ""
    if a == "finish.tag_created":
        return f"{subject} tagged {after.get('tag')} at {_short(after.get('sha'))}", GOOD
    if a == "finish.tag_existing":
        return f"{subject} tag {after.get('tag')} already at {_short(after.get('sha'))}", ""
    if a == "finish.ported":
        commits = after.get("commits") or []
        return (f"{subject} forward-ported to {branch} ({len(commits)} "
                f"commit{'s' if len(commits) != 1 else ''})"), GOOD
    if a == "finish.already_present":
        how = "; ".join(str(e) for e in after.get("evidence") or []) or "same patch-id"
        return f"{subject} already in {branch} ({how}); nothing to apply", ""
    if a == "finish.undecided":
        return (f"{subject} forward-port to {branch} waits for a person: "
                f"{after.get('reason', '')}"), WARN
    if a == "finish.decided":
        what = ("has the fix (not ported)" if after.get("decision") == "present"
                else "gets the fix ported anyway")
        return f"{subject} decided: {branch} {what}", ""
    if a == "finish.conflict":
        return (f"{subject} forward-port to {branch} stopped: conflict in "
                f"{', '.join(after.get('files') or [])}"), WARN
    if a == "finish.resolved":
        return f"{subject} conflict in {branch} resolved; forward-port continues", ""
    if a == "finish.blocked":
        return f"{subject} forward-port to {branch} waits: {after.get('reason', '')}", WARN
    if a == "finish.aborted":
        return f"{subject} finish aborted" + (
            f"; tag {after['tag_removed']} removed" if after.get("tag_removed") else ""), WARN
    if a == "hotfix.finished":
        return f"{subject} finished: tagged {extra.get('tag') or after.get('tag')}", GOOD
    if a == "finish.pushed":
        return f"{subject} pushed {', '.join(after.get('refs') or [])} to {after.get('remote')}", \
            GOOD
    if a == "finish.push_refused":
        return f"{subject} push to {after.get('remote')} refused: {after.get('reason')}", BAD
    return f"{subject} {a}", ""
