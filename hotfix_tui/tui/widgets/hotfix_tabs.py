"""The rows of the hotfix screen's tables (Scope, Diff, Approvals, Timeline, Deploys),
from a HotfixDetail, with the columns they fit into."""

from __future__ import annotations

from rich.text import Text

from ...clock import age
from ...core.models import actor_label
from .columns import Column
from .common import clean, plain, signature_mark, state
from .timeline import describe

CHECKLIST = (Column("n"), Column("state"), Column("item", flex=True, min=16),
             Column("by / detail", drop=1, most=40))
DIFFSTAT = (Column("st"), Column("file", flex=True, min=16), Column("+"), Column("-"))
DIFF_FILES = (Column("file", flex=True, min=10), Column("+/-"))
APPROVALS = (Column("who"), Column("decision"), Column("when", drop=2), Column("sha", drop=3),
             Column("status", most=40), Column("signature", drop=4, most=27),
             Column("comment", flex=True, min=12))
EVENTS = (Column("time (UTC)", drop=1), Column("who", most=24),
          Column("what", flex=True, min=20))
DEPLOYS = (Column("key"), Column("kind"), Column("env"), Column("version"), Column("status"),
           Column("by", drop=2), Column("started", drop=3), Column("lines", drop=1))


def checklist_rows(detail) -> list:
    rows = []
    for item in detail.hotfix.checklist:
        if item.automatic:
            mark = Text("pass", style="green") if item.passed else Text("FAIL", style="bold red")
            who = item.detail
        elif item.checked:
            mark = Text("[x]", style="green")
            who = (f"{item.checked_by}{'' if item.checked_by_verified else ' (unverified)'} "
                   f"{(item.checked_at or '')[:16].replace('T', ' ')}")
        else:
            mark, who = Text("[ ]"), ""
        rows.append((str(item.n), (str(item.n), mark, plain(item.text), plain(who))))
    return rows


def diffstat_rows(scope) -> list:
    if not scope:
        return []
    rows = []
    for f in scope.files:
        name = f"{f.old_path} → {f.path}" if f.old_path else f.path
        rows.append((None, (f.status, plain(name), "bin" if f.binary else f"+{f.insertions}",
                            "" if f.binary else f"-{f.deletions}")))
    rows.append((None, ("", Text(f"{scope.files_changed} files, {scope.commits} commits",
                                 style="bold"),
                        f"+{scope.insertions}", f"-{scope.deletions}")))
    return rows


def file_rows(scope) -> list:
    if not scope:
        return []
    return [(f.path, (plain(f.path), "bin" if f.binary else f"+{f.insertions}-{f.deletions}"))
            for f in scope.files]


def approval_rows(hf, now) -> list:
    rows = []
    for a in hf.approvals:
        if a.counts:
            status = Text("counts", style="green")
        elif a.decision != "approved":
            status = Text("")
        else:  # stale, unbacked, by the author's account, a bad signature…
            forged = not a.backed or a.signature_check().valid is False
            status = plain(a.not_counted, "bold red" if forged else "yellow")
        decision = a.decision + (" (after the fact)" if a.retroactive else "")
        rows.append((None, (plain(actor_label(a.approver, a.approver_verified,
                                              a.approver_account)),
                            plain(decision), f"{age(a.at, now)} ago", a.sha[:10], status,
                            signature_mark(a.signature_check()), plain(a.comment))))
    return rows


def event_rows(events) -> list:
    rows = []
    for ev in events:
        who = ev.actor if ev.actor_verified else f"{ev.actor} (unverified)"
        rows.append((None, (ev.at[:19].replace("T", " "), plain(who), describe(ev))))
    return rows


def deploy_rows(deploys) -> list:
    rows = []
    for d in deploys:
        kind = Text(str(d.kind))
        if d.break_glass:
            kind.append(" BREAK-GLASS", style="bold white on red")
        rows.append((d.key, (d.key, kind, clean(d.env), clean(d.version), state(d.status),
                             plain(d.started_by), d.started_at[11:19], str(d.lines))))
    return rows
