"""Audit events as one readable line each, with a tone: the timeline's words.

Pure: the console wraps `describe` in a styled rich Text, the CLI prints it, and
the exported record quotes it. Every action the code base appends has a case here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .sanitize import one_line

# Tones: "" (plain), "good", "bad", "warn".
GOOD, BAD, WARN = "good", "bad", "warn"

# Events the console shows loudly (bold): they change what production runs or who may.
LOUD_ACTIONS = frozenset({"deploy.break_glass", "rollback.started", "environment.locked"})
# The scribe's own words (shown in italics by the console).
NOTE_ACTIONS = frozenset({"incident.note"})
RUN_KINDS = ("deploy", "verify", "rollback")


def _short(sha: Any) -> str:
    return str(sha)[:10]


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


class _Ev(NamedTuple):
    a: str  # the action, like "hotfix.picked"
    kind: str  # before the dot
    rest: str  # after the dot
    key: str  # the entity's key
    subject: str  # the hotfix it concerns (else the entity's key)
    before: dict
    after: dict
    extra: dict


def describe(ev) -> tuple[str, str]:
    """(text, tone) for one audit event (anything with action, entity_key, hotfix,
    before, after and extra, like core.models.AuditEvent)."""
    text, tone = _describe(ev.action, ev.entity_key, ev.hotfix or ev.entity_key,
                           _dict(ev.before), _dict(ev.after), _dict(ev.extra))
    return one_line(text), tone


def _describe(a: str, key: str, subject: str, before: dict, after: dict,
              extra: dict) -> tuple[str, str]:
    kind, _, rest = a.partition(".")
    ev = _Ev(a, kind, rest, key, subject, before, after, extra)
    handler = _BY_ACTION.get(a) or _BY_KIND.get(kind)
    if handler is not None:
        return handler(ev)
    if kind == "hotfix" and "state" in after:
        return f"{subject} {before.get('state')} → {after.get('state')}", ""
    return f"{key} {a}", ""


def _list(values) -> str:
    return ", ".join(values or [])


def _picked(e: _Ev) -> tuple[str, str]:
    commits = e.extra.get("commits") or []
    text = f"{e.subject} picked {', '.join(_short(c) for c in commits) or 'resolved pick'}"
    there = _already_there(e.extra.get("already_there"))
    return text + (f"; already there: {there}" if there else ""), ""


def _already_there(items: Any) -> str:
    """"1a2b3c4d5e (cherry-picked as …)" for each commit whose pick came out empty."""
    if not isinstance(items, list):
        return ""
    return ", ".join(f"{_short(i.get('sha'))} ({i.get('how')})" for i in items
                     if isinstance(i, dict))


def _pick_conflict(e: _Ev) -> tuple[str, str]:
    files = _list(e.after.get("files")) or e.after.get("message") or "?"
    return f"{e.subject} pick conflict in {files}", WARN


def _pick_empty(e: _Ev) -> tuple[str, str]:
    there = _already_there(e.after.get("already_there")) or "the change is already there"
    return f"{e.subject} nothing picked: {there}", ""


def _already_present(e: _Ev) -> tuple[str, str]:
    how = "; ".join(str(x) for x in e.after.get("evidence") or []) or "same patch-id"
    return f"{e.subject} already in {e.after.get('branch', '')} ({how}); nothing to apply", ""


def _decided(e: _Ev) -> tuple[str, str]:
    what = ("has the fix (not ported)" if e.after.get("decision") == "present"
            else "gets the fix ported anyway")
    return f"{e.subject} decided: {e.after.get('branch', '')} {what}", ""


def _submitted(e: _Ev) -> tuple[str, str]:
    text = f"{e.subject} submitted for review"
    if e.extra.get("scope_accepted"):
        text += f" (scope accepted: {e.extra['scope_accepted']})"
    return text, ""


def _ticked(e: _Ev) -> tuple[str, str]:
    mark = "ticked" if e.a.endswith(".checked") else "unticked"
    return f"{e.subject} {mark} item {e.after.get('n')}: {e.after.get('text', '')}", ""


def _verify_item(e: _Ev) -> tuple[str, str]:
    return (f"{e.subject} verify item {e.after.get('n')} on {e.after.get('env')}: "
            f"{e.after.get('text', '')}"), ""


def _sourced(text: str, e: _Ev, how: str) -> tuple[str, str]:
    """`text`, and where an incident change came from (an alert import), if anywhere."""
    source = e.extra.get("source")
    return (text + how.format(source) if source else text), ""


def _opened(e: _Ev) -> tuple[str, str]:
    return _sourced(f"{e.key} opened: {e.after.get('title', '')} "
                    f"(SEV{e.after.get('severity')})", e, " from {}")


def _updated(e: _Ev) -> tuple[str, str]:
    changes = ", ".join(f"{k} {e.before.get(k)} → {v}" for k, v in e.after.items())
    return _sourced(f"{e.key} updated: {changes}", e, " (from {})")


def _incident(e: _Ev) -> tuple[str, str]:
    if e.rest in ("open", "mitigated", "resolved"):
        return _sourced(f"{e.key} {e.after.get('status')}", e, " by {}")
    handler = _INCIDENT.get(e.rest)
    return handler(e) if handler else (f"{e.key} {e.a}", "")


_INCIDENT = {
    "opened": _opened,
    "updated": _updated,
    "commander": lambda e: (f"commander {e.before.get('commander')} → "
                            f"{e.after.get('commander')}", ""),
    "note": lambda e: (f"note: {e.after.get('text', '')}", ""),
}


def _run(e: _Ev) -> tuple[str, str]:
    key, kind, after = e.key, e.kind, e.after
    if e.a == "deploy.break_glass":
        bypassed = after.get("bypassed") or []
        return (f"{key} BREAK-GLASS deploy to {after.get('env')}: "
                f"{after.get('break_glass_reason')}"
                + (f" (bypassing {'; '.join(map(str, bypassed))})" if bypassed else "")), BAD
    if e.a == "deploy.cancel_requested":
        return f"{key} cancel requested", WARN
    if e.rest == "started":
        return _run_started(kind, key, after)
    if "status" in after:
        code = after.get("exit_code")
        sig = after.get("signal")
        detail = f" (signal {sig})" if sig else (f" (exit {code})" if code not in (None, 0)
                                                 else "")
        tone = GOOD if after.get("status") == "succeeded" else BAD
        return f"{key} {kind} {after.get('status')}{detail}", tone
    return f"{key} {e.a}", ""


def run_phrase(kind: str, version: str | None, env: str | None) -> str:
    """What a run does, in words: `deploy 1.4.2 to production`, `verify 1.4.2 on
    production`, `rollback of production to 1.4.1` (a rollback recorded before its event
    named the environment: `rollback to 1.4.1`)."""
    version = version or "?"
    if kind == "rollback":
        return f"rollback{f' of {env}' if env else ''} to {version}"
    return f"{kind} {version} {'on' if kind == 'verify' else 'to'} {env or '?'}"


def _run_started(kind: str, key: str, after: dict) -> tuple[str, str]:
    text = f"{key} {run_phrase(kind, after.get('version'), after.get('env'))} started"
    if kind == "rollback" and after.get("break_glass"):
        return (f"{key} BREAK-GLASS rollback of {after.get('env') or ''} to "
                f"{after.get('version') or ''}, a release it never ran: "
                f"{after.get('break_glass_reason')} ({after.get('reason') or ''})"), BAD
    if kind == "rollback":
        return f"{text}: {after.get('reason') or ''}", BAD
    return text, ""


_ENVIRONMENT = {
    "locked": lambda e: (f"{e.key} locked: {e.after.get('reason')}", BAD),
    "unlocked": lambda e: (f"{e.key} unlocked: {e.after.get('reason')}", ""),
    "deployed": lambda e: (f"{e.key} now runs {e.after.get('version')}", ""),
    "adopted": lambda e: (f"{e.key} recorded as running {e.after.get('version')} "
                          f"({_short(e.after.get('sha'))})", ""),
}


def _environment(e: _Ev) -> tuple[str, str]:
    handler = _ENVIRONMENT.get(e.rest)
    return handler(e) if handler else (f"{e.key} environment.{e.rest}", "")


def _finish_started(e: _Ev) -> tuple[str, str]:
    text = (f"{e.subject} finish started: tag {e.after.get('tag')}, forward-port to "
            f"{_list(e.after.get('branches')) or 'no branches'}")
    if e.after.get("skip_verify_reason"):
        return f"{text}; verification skipped: {e.after['skip_verify_reason']}", WARN
    return text, ""


def _ported(e: _Ev) -> tuple[str, str]:
    commits = e.after.get("commits") or []
    return (f"{e.subject} forward-ported to {e.after.get('branch', '')} ({len(commits)} "
            f"commit{'s' if len(commits) != 1 else ''})"), GOOD


def _aborted(e: _Ev) -> tuple[str, str]:
    removed = e.after.get("tag_removed")
    return f"{e.subject} finish aborted" + (f"; tag {removed} removed" if removed else ""), WARN


_FINISH = {
    "finish.started": _finish_started,
    "finish.tag_created": lambda e: (f"{e.subject} tagged {e.after.get('tag')} at "
                                     f"{_short(e.after.get('sha'))}", GOOD),
    "finish.tag_existing": lambda e: (f"{e.subject} tag {e.after.get('tag')} already at "
                                      f"{_short(e.after.get('sha'))}", ""),
    "finish.ported": _ported,
    "finish.already_present": _already_present,
    "finish.undecided": lambda e: (f"{e.subject} forward-port to {e.after.get('branch', '')} "
                                   f"waits for a person: {e.after.get('reason', '')}", WARN),
    "finish.decided": _decided,
    "finish.conflict": lambda e: (f"{e.subject} forward-port to {e.after.get('branch', '')} "
                                  f"stopped: conflict in {_list(e.after.get('files'))}", WARN),
    "finish.resolved": lambda e: (f"{e.subject} conflict in {e.after.get('branch', '')} "
                                  "resolved; forward-port continues", ""),
    "finish.blocked": lambda e: (f"{e.subject} forward-port to {e.after.get('branch', '')} "
                                 f"waits: {e.after.get('reason', '')}", WARN),
    "finish.aborted": _aborted,
    "hotfix.finished": lambda e: (f"{e.subject} finished: tagged "
                                  f"{e.extra.get('tag') or e.after.get('tag')}", GOOD),
    "finish.pushed": lambda e: (f"{e.subject} pushed {_list(e.after.get('refs'))} to "
                                f"{e.after.get('remote')}", GOOD),
    "finish.push_refused": lambda e: (f"{e.subject} push to {e.after.get('remote')} refused: "
                                      f"{e.after.get('reason')}", BAD),
}

def _signed(e) -> str:
    sig = e.after.get("signature") if isinstance(e.after, dict) else None
    fp = sig.get("key") if isinstance(sig, dict) else None
    return f", signed {str(fp)[:19]}" if fp else ""


_APPROVAL = {
    "approval.approved": lambda e: (f"{e.subject} approved at {_short(e.after.get('sha'))}"
                                    + _signed(e), GOOD),
    "approval.retroactive": lambda e: (f"{e.subject} approved after the fact (break-glass) at "
                                       f"{_short(e.after.get('sha'))}", GOOD),
    "approval.stale": lambda e: (f"{e.subject} approval by {e.before.get('approver')} went "
                                 f"stale: {e.after.get('reason')}", WARN),
    "approval.valid_again": lambda e: (f"{e.subject} approval by {e.before.get('approver')} "
                                       f"counts again: {e.after.get('reason')}", GOOD),
}

def _pids(e: _Ev, side: dict) -> str:
    found = side.get("survivors") if isinstance(side.get("survivors"), list) else []
    return ", ".join(f"{s.get('pid')} ({s.get('command')})" for s in found
                     if isinstance(s, dict)) or "none"


# What a run's stop left behind: processes it could not end, and what became of them.
_SURVIVORS = {
    "deploy.survivors": lambda e: (f"{e.key} left processes it could not stop, which hold "
                                   f"{e.after.get('env')}: {_pids(e, e.after)}", BAD),
    "deploy.survivors_stopped": lambda e: (f"{e.key} survivors gone; left: "
                                           f"{_pids(e, e.after)}", ""),
    "deploy.survivors_cleared": lambda e: (f"{e.key} survivors cleared ({_pids(e, e.before)})"
                                           f": {e.after.get('reason')}", WARN),
}

# Events described by their exact action; then by the part before the dot.
_BY_ACTION = {
    **_FINISH,
    **_APPROVAL,
    **_SURVIVORS,
    "hotfix.started": lambda e: (f"{e.subject} started: {e.after.get('title')} "
                                 f"({e.after.get('version')} from {e.after.get('base_ref')})",
                                 ""),
    "hotfix.picked": _picked,
    "hotfix.pick_conflict": _pick_conflict,
    "hotfix.pick_empty": _pick_empty,
    "hotfix.pick_skipped": lambda e: (f"{e.subject} pick of {_short(e.after.get('commit'))} "
                                      "skipped by hand", WARN),
    "hotfix.pick_aborted": lambda e: (f"{e.subject} pick aborted", ""),
    "hotfix.head_moved": lambda e: (f"{e.subject} head moved to "
                                    f"{_short(e.after.get('head'))}", ""),
    "hotfix.worktree_restored": lambda e: (f"{e.subject} worktree restored at "
                                           f"{e.after.get('worktree')}", ""),
    "checklist.checked": _ticked,
    "checklist.unchecked": _ticked,
    "verify.checked": _verify_item,
    "verify.unchecked": _verify_item,
    "hotfix.edited": lambda e: (f"{e.subject} edited {', '.join(e.after)}", ""),
    "hotfix.verified": lambda e: (f"{e.subject} verified on {e.after.get('env')}", GOOD),
    "verify.passed": lambda e: (f"{e.subject} verified on {e.after.get('env')}", GOOD),
    "hotfix.submitted": _submitted,
    "hotfix.rejected": lambda e: (f"{e.subject} rejected: {e.extra.get('comment', '')}", BAD),
    "audit.verify_failed": lambda e: (f"audit chain broken at event {e.after.get('bad_seq')}: "
                                      f"{e.after.get('problem')}", BAD),
}
_BY_KIND = {
    "incident": _incident,
    "finish": lambda e: (f"{e.subject} {e.a}", ""),
    "approval": lambda e: (f"{e.key} {e.a}", ""),
    "deploy": _run,
    "verify": _run,
    "rollback": _run,
    "environment": _environment,
}
