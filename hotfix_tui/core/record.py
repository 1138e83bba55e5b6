"""The whole record of a hotfix as a document: Markdown for the post-incident review
and release notes, and the annotated tag's message.

Pure: the input is the JSON record that services.export builds (its schema is
described in docs/export-schema.md); no I/O, no rich.
"""

from __future__ import annotations

from typing import Any

from . import record_signatures
from .models import actor_label
from .sanitize import one_line, visible


def _ts(value: Any) -> str:
    """An ISO timestamp, to the second, as `2026-03-01 14:02:11Z`."""
    if not value:
        return "-"
    text = str(value)
    return text[:19].replace("T", " ") + "Z" if len(text) >= 19 else text


def _cell(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    text = one_line(value).strip()
    return text.replace("\\", "\\\\").replace("|", "\\|") or "-"


def _code(value: Any, n: int = 12) -> str:
    return f"`{str(value)[:n]}`" if value else "-"


def _who(name: Any, verified: Any) -> str:
    return actor_label(str(name), bool(verified)) if name else "-"


def _duration(seconds: Any) -> str:
    if seconds is None:
        return "-"
    s = float(seconds)
    if s < 60:
        return f"{s:.1f}s"
    return f"{int(s // 60)}m{int(s % 60):02d}s"


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _para(text: Any) -> str:
    body = str(text or "").strip()
    return body if body else "_(empty)_"


def render_markdown(rec: dict[str, Any]) -> str:
    h, inc = rec["hotfix"], rec["incident"]
    lines: list[str] = [f"# {h['key']}: {one_line(h['title'])}", ""]
    lines += _summary(rec)
    if h.get("break_glass"):
        retro = ("pending" if h.get("needs_retroactive_approval") else "given")
        lines += ["", f"> **BREAK-GLASS**: deployed without approval: "
                  f"{one_line(h.get('break_glass_reason'))}. Approval after the fact: {retro}."]
    lines += ["", "## Incident", ""]
    lines += _table(["", ""], [
        ["Incident", f"{inc['key']}: {inc['title']}"],
        ["Severity", inc["sev_label"]],
        ["Status", inc["status"]],
        ["Service", inc.get("service") or "-"],
        ["Commander", inc.get("commander") or "-"],
        ["Opened", f"{_ts(inc['opened_at'])} by "
                   f"{_who(inc['opened_by'], inc['opened_by_verified'])}"],
        ["Mitigated", _ts(inc.get("mitigated_at"))],
        ["Resolved", _ts(inc.get("resolved_at"))],
    ])
    for title, field in (("Why", "why"), ("Risk", "risk"), ("Test plan", "test_plan"),
                         ("Rollback plan", "rollback_plan")):
        lines += ["", f"## {title}", "", _para(h.get(field))]
    lines += _scope(rec)
    lines += _checklist(rec)
    lines += _approvals(rec)
    lines += record_signatures.render(rec)
    lines += _deploys(rec)
    lines += _verification(rec)
    lines += _release(rec)
    lines += ["", "## Timeline", ""]
    lines += _table(["Time (UTC)", "Who", "What"], [
        [_ts(e["at"]), _who(e["actor"], e["actor_verified"]),
         ("**" + one_line(e["text"]) + "**") if e.get("tone") == "bad" else e["text"]]
        for e in rec.get("timeline") or []])
    lines += ["", f"_Exported by hotfix-tui at {_ts(rec.get('generated_at'))}._", ""]
    return visible("\n".join(lines))  # whatever a field held, nothing a terminal obeys


def _summary(rec: dict[str, Any]) -> list[str]:
    h = rec["hotfix"]
    rel = rec.get("release") or {}
    rows = [
        ["Hotfix", f"{h['key']} ({h['version']})"],
        ["State", h["state"]],
        ["Author", _who(h["author"], h["author_verified"])],
        ["Branch", f"{h['branch']} from {h['base_ref']} ({_code(h['base_sha'])})"],
        ["Deployed commit", _code(rec.get("sha"))],
        ["Tag", f"{rel['tag']} ({_code(rel.get('tag_sha'))})" if rel.get("tag_sha")
         else f"{rel.get('tag') or '-'} (not created)"],
        ["Started", _ts(h["created_at"])],
    ]
    return _table(["", ""], rows)


def _scope(rec: dict[str, Any]) -> list[str]:
    s = rec.get("scope")
    out = ["", "## Scope", ""]
    if not s:
        return out + ["_Not measured (the repository was not available)._"]
    out.append(f"{s['files_changed']} file{'s' if s['files_changed'] != 1 else ''} changed, "
               f"+{s['insertions']} -{s['deletions']} in {s['commits']} "
               f"commit{'s' if s['commits'] != 1 else ''} (budget: {s['max_files']} files, "
               f"{s['max_lines']} lines).")
    if s["files"]:
        out.append("")
        out += _table(["Status", "File", "+", "-"], [
            [f["status"], f"{f['old_path']} → {f['path']}" if f.get("old_path") else f["path"],
             "bin" if f["binary"] else f["insertions"], "" if f["binary"] else f["deletions"]]
            for f in s["files"]])
    out.append("")
    if s["violations"]:
        out += [f"- **violation** {v['rule']}: {one_line(v['detail'])}" for v in s["violations"]]
    else:
        out.append("No scope violations.")
    if rec["hotfix"].get("scope_accepted_reason"):
        out += ["", f"Scope accepted: {one_line(rec['hotfix']['scope_accepted_reason'])}"]
    return out


def _checklist(rec: dict[str, Any]) -> list[str]:
    out = ["", "## Checklist", ""]
    items = rec.get("checklist") or []
    if not items:
        return out + ["_No checklist items._"]
    rows = []
    for i in items:
        if i["automatic"]:
            rows.append([i["n"], i["text"], "pass" if i["passed"] else "**FAIL**", "automatic",
                         i.get("detail") or ""])
        else:
            rows.append([i["n"], i["text"], "ticked" if i["checked"] else "**not ticked**",
                         _who(i["checked_by"], i["checked_by_verified"]) if i["checked"]
                         else "-", _ts(i["checked_at"]) if i["checked"] else ""])
    return out + _table(["#", "Item", "State", "By", "At / detail"], rows)


def _approvals(rec: dict[str, Any]) -> list[str]:
    out = ["", "## Approvals", ""]
    items = rec.get("approvals") or []
    if not items:
        return out + ["_No approvals._" + (" Deployed break-glass."
                                           if rec["hotfix"].get("break_glass") else "")]
    rows = []
    for a in items:
        if a["decision"] != "approved":
            status = "-"
        elif a.get("counts", True):
            status = "valid"
        elif a["stale"]:
            status = f"**stale**: {a['stale_reason']}"
        else:
            status = f"**not counted**: {a.get('not_counted') or '-'}"
        decision = a["decision"] + (" (after the fact)" if a.get("retroactive") else "")
        who = actor_label(str(a["approver"]), bool(a["approver_verified"]),
                          a.get("approver_account") or "")
        sig = a.get("signature") or {}
        signed = ("unsigned" if not sig.get("signed") else
                  f"signed `{sig.get('key_fingerprint')}`" if sig.get("valid") else
                  f"**BAD SIGNATURE**: {sig.get('reason')}")
        rows.append([who, decision, _code(a["sha"]), _ts(a["at"]), status, signed,
                     a.get("comment") or ""])
    return out + _table(["Approver", "Decision", "Bound to", "At", "Status", "Signature",
                         "Comment"], rows)


def _deploys(rec: dict[str, Any]) -> list[str]:
    out = ["", "## Deploys", ""]
    runs = [d for d in rec.get("deploys") or [] if d["kind"] != "verify"]
    if not runs:
        return out + ["_Never deployed._"]
    rows = []
    for d in runs:
        outcome = d["status"]
        if d.get("signal"):
            outcome += f" (signal {d['signal']})"
        elif d.get("exit_code") not in (None, 0):
            outcome += f" (exit {d['exit_code']})"
        if d["status"] != "succeeded":
            outcome = f"**{outcome}**"
        kind = d["kind"] + (" **BREAK-GLASS**" if d.get("break_glass") else "")
        rows.append([d["key"], kind, d["env"], f"{d['version']} ({_code(d['sha'], 10)})",
                     outcome, _who(d["started_by"], d["started_by_verified"]),
                     _ts(d["started_at"]), _duration(d.get("duration_s"))])
    return out + _table(["Run", "Kind", "Env", "Version", "Outcome", "By", "Started",
                         "Duration"], rows)


def _verification(rec: dict[str, Any]) -> list[str]:
    v = rec.get("verification") or {}
    out = ["", "## Verification", ""]
    if v.get("state") == "verified":
        out.append(f"Verified on {v.get('env') or '-'} by {_who(v.get('by'), v.get('by_verified'))}"
                   f" at {_ts(v.get('at'))}.")
    elif v.get("state") == "skipped":
        out.append(f"**Verification skipped**: {one_line(v.get('skip_reason'))}")
    else:
        out.append("_Not verified._")
    for e in v.get("environments") or []:
        state = {"passed": f"passed ({_who(e.get('verified_by'), e.get('verified_by_verified'))}"
                           f", {_ts(e.get('verified_at'))})",
                 "failed": "FAILED"}.get(e.get("state"), "pending")
        back = f"; rolled back by {e['rolled_back_by']}" if e.get("rolled_back_by") else ""
        out.append(f"- On {e['env']}: {e.get('version')} ({_code(e.get('sha'))}) "
                   f"{state}{back}")
    for r in v.get("runs") or []:
        out.append(f"- {r['key']} verify on {r['env']}: {r['status']} "
                   f"({_duration(r.get('duration_s'))})")
    for i in v.get("items") or []:
        mark = "x" if i["checked"] else " "
        who = f" ({_who(i['checked_by'], i['checked_by_verified'])}, {_ts(i['checked_at'])})" \
            if i["checked"] else ""
        out.append(f"- [{mark}] {one_line(i['text'])} on {i.get('env', '')}{who}")
    return out


def _release(rec: dict[str, Any]) -> list[str]:
    rel = rec.get("release") or {}
    out = ["", "## Release and forward-port", ""]
    tag = rel.get("tag") or "-"
    out.append(f"Tag {tag} " + (f"at {_code(rel['tag_sha'])}" if rel.get("tag_sha")
                                else "not created yet") + f"; hotfix branch {rel.get('branch')}.")
    branches = rel.get("forward_port") or []
    if not branches:
        return out + ["", "_No forward-port branches configured._"]
    rows = []
    for b in branches:
        missing = b.get("missing")
        if missing is None:
            contains = "unknown"
        elif missing:
            contains = "**missing** " + ", ".join(_code(c, 10) for c in missing)
        elif b.get("state") == "probably":
            contains = f"**{b.get('evidence')}**"
        else:
            contains = "contains the fix"
        rows.append([b["branch"], b.get("status") or "-", contains])
    return out + [""] + _table(["Branch", "Finish", "Fix"], rows)


def _tag_approval(a: dict[str, Any]) -> str:
    marks = [" (stale)" if a["stale"] else "",
             " (not counted)" if not a["stale"] and a["decision"] == "approved"
             and not a.get("counts", True) else "",
             " (after the fact)" if a.get("retroactive") else ""]
    return (f"{_who(a['approver'], a['approver_verified'])} {a['decision']} at "
            f"{str(a['sha'])[:12]}" + "".join(marks))


def tag_message(rec: dict[str, Any]) -> str:
    """The annotated tag's message: the record in a few plain lines."""
    h, inc = rec["hotfix"], rec["incident"]
    lines = [f"{h['key']} {h['version']}: {one_line(h['title'])}", "",
             f"Incident: {inc['key']} ({inc['sev_label']}, {inc['status']}) "
             f"{one_line(inc['title'])}",
             f"Why: {one_line(h.get('why')) or '-'}",
             f"Author: {_who(h['author'], h['author_verified'])}"]
    approvals = [_tag_approval(a) for a in rec.get("approvals") or []]
    lines.append("Approvals: " + ("; ".join(approvals) or "none"))
    if h.get("break_glass"):
        lines.append(f"BREAK-GLASS: {one_line(h.get('break_glass_reason'))}")
    deploys = [f"{d['key']} {d['kind']} {d['env']} {d['status']}"
               for d in rec.get("deploys") or []]
    lines.append("Deploys: " + ("; ".join(deploys) or "none"))
    v = rec.get("verification") or {}
    if v.get("state") == "verified":
        lines.append(f"Verified: on {v.get('env')} by {v.get('by')} at {_ts(v.get('at'))}")
    elif v.get("state") == "skipped":
        lines.append(f"Verification skipped: {one_line(v.get('skip_reason'))}")
    return visible("\n".join(lines)) + "\n"
