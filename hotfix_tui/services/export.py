"""The whole record of a hotfix, for the post-incident review and the release notes.

`build_record` gathers it as one JSON document (schema: docs/export-schema.md);
core.record renders it as Markdown.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import gitops, sharing
from ..clock import parse_iso
from ..core.errors import HotfixError
from ..core.models import HotfixState
from ..core.record import render_markdown
from ..core.scope import automatic_items, evaluate
from ..core.timeline import describe
from ..store import records
from ..store.db import Store
from . import signatures
from .context import Context
from .finish_state import deployed_sha, load_state, public_status
from .missing import check_branches
from .runs import runs_of
from .timeline import incident_events

SCHEMA = "hotfix-tui/record/2"
FORMATS = ("md", "json")
_SHIPPED = (HotfixState.DEPLOYED, HotfixState.VERIFIED, HotfixState.FINISHED)


def _duration(started: str | None, finished: str | None) -> float | None:
    if not started or not finished:
        return None
    return round((parse_iso(finished) - parse_iso(started)).total_seconds(), 3)


def _run_json(d) -> dict[str, Any]:
    return {"key": d.key, "kind": str(d.kind), "env": d.env, "status": str(d.status),
            "exit_code": d.exit_code, "signal": d.signal, "sha": d.sha, "version": d.version,
            "previous_version": d.previous_version or None, "started_by": d.started_by,
            "started_by_verified": d.started_by_verified, "started_at": d.started_at,
            "finished_at": d.finished_at, "duration_s": _duration(d.started_at, d.finished_at),
            "break_glass": d.break_glass, "break_glass_reason": d.break_glass_reason or None,
            "bypassed": list(d.bypassed), "reason": d.reason or None,
            "cancelled_by": d.cancelled_by}


def build_record(ctx: Context, key: str, git_details: bool = True) -> dict[str, Any]:
    """The record as one JSON document. With git_details, also the commits, the measured
    scope, the automatic checklist items and which branches still lack the fix."""
    with ctx.reading() as store:
        row = records.hotfix_row(store, key)
        hf = records.get_hotfix(store, key, policy=ctx.approval_policy)
        inc = records.get_incident(store, row["incident_key"])
        events = incident_events(store, inc.key, hotfix=hf.key)
        runs = list(reversed(runs_of(store, hotfix_id=row["id"], limit=1000)))
        verify_items = store.all("SELECT * FROM checklist_items WHERE hotfix_id = ? AND "
                                 "kind = 'verify' ORDER BY env, n", (row["id"],))
        shipped = HotfixState(row["state"]) in _SHIPPED
        sha = deployed_sha(store, row) if shipped else row["head_sha"]
        fs = load_state(row)
        rec = _base(ctx, store, row, hf, inc, events, runs, verify_items, sha)
    rec["release"] = _release(ctx, row, fs, sha)
    rec["approvals"] = signatures.record_entries(ctx, hf)
    rec["signing"] = signatures.record_info(ctx)
    if git_details:
        _git_details(ctx, row, hf, rec, sha)
    return rec


def _timeline_json(ev) -> dict[str, Any]:
    text, tone = describe(ev)
    return {"id": ev.id, "at": ev.at, "actor": ev.actor, "actor_verified": ev.actor_verified,
            "action": ev.action, "entity_key": ev.entity_key, "hotfix": ev.hotfix,
            "text": text, "tone": tone or None}


def _verification(row, events, runs, verify_items, environments) -> dict[str, Any]:
    verified = next((e for e in reversed(events) if e.action == "hotfix.verified"), None)
    if verified is not None:
        state = "verified"
    elif row["skip_verify_reason"]:
        state = "skipped"
    else:
        state = "not_verified"
    return {
        "state": state,
        "env": (verified.after or {}).get("env") if verified else None,
        "by": verified.actor if verified else None,
        "by_verified": verified.actor_verified if verified else None,
        "at": verified.at if verified else None,
        "skip_reason": row["skip_verify_reason"] or None,
        "runs": [_run_json(d) for d in runs if str(d.kind) == "verify"],
        "items": [{"env": i["env"], "n": i["n"], "text": i["text"], "checked": bool(i["checked"]),
                   "checked_by": i["checked_by"],
                   "checked_by_verified": bool(i["checked_by_verified"]),
                   "checked_at": i["checked_at"]} for i in verify_items],
        "environments": [v.to_json() for v in environments],
    }


def _base(ctx: Context, store: Store, row, hf, inc, events, runs, verify_items,
          sha: str) -> dict[str, Any]:
    hotfix = hf.to_json()
    hotfix.pop("approvals")
    hotfix.pop("checklist")
    hotfix.pop("last_deploy_status")
    hotfix.pop("environments")
    incident = {**inc.to_json(), "sev_label": inc.sev_label}
    timeline = [_timeline_json(ev) for ev in events]
    verification = _verification(row, events, runs, verify_items, hf.environments)
    return {
        "schema": SCHEMA,
        "generated_at": ctx.now(),
        "sha": sha,
        "hotfix": hotfix,
        "incident": incident,
        "commits": [],
        "scope": None,
        "checklist": [i.to_json() for i in hf.checklist],
        "approvals": [a.to_json() for a in hf.approvals],
        "deploys": [_run_json(d) for d in runs],
        "verification": verification,
        "timeline": timeline,
    }


def _release(ctx: Context, row, fs: dict | None, sha: str) -> dict[str, Any]:
    tag = row["tag"] or (fs or {}).get("tag") or \
        ctx.config.hotfix.tag_format.format(version=row["version"])
    statuses = {b["branch"]: public_status(b["status"]) for b in (fs or {}).get("branches", [])}
    names = list(dict.fromkeys([*statuses, *ctx.config.hotfix.forward_port]))
    return {"tag": tag, "tag_sha": None, "branch": row["branch"],
            "finish": "finished" if (fs or {}).get("done") else ("in_progress" if fs else None),
            "forward_port": [{"branch": n, "status": statuses.get(n), "missing": None,
                              "state": None, "evidence": None} for n in names]}


def _git_details(ctx: Context, row, hf, rec: dict[str, Any], sha: str) -> None:
    """Fill in what only git knows; a repository that is gone leaves these empty."""
    try:
        cwd = ctx.require_repo().toplevel
        commits = list(reversed(gitops.log(cwd, f"{row['base_sha']}..{sha}")))
        rec["commits"] = [{"sha": c.sha, "subject": c.subject, "author": c.author,
                           "date": c.date} for c in commits]
        report = evaluate(gitops.diff_files(cwd, row["base_sha"], sha), ctx.config.scope,
                          len(commits))
        rec["scope"] = report.to_json()
        auto = automatic_items(report, len(hf.checklist) + 1, ctx.config.scope)
        rec["checklist"] += [i.to_json() for i in auto]
        rel = rec["release"]
        rel["tag_sha"] = gitops.tag_commit(cwd, rel["tag"])
        known = [b for b in rel["forward_port"] if gitops.branch_tip(cwd, b["branch"])]
        checked = check_branches(cwd, row["base_sha"], sha, [b["branch"] for b in known])
        for b, c in zip(known, checked, strict=True):
            b.update(missing=[m.sha for m in c.missing], state=c.state, evidence=c.text)
    except HotfixError:
        return


def export(ctx: Context, key: str, fmt: str = "md") -> str | dict[str, Any]:
    """The record as Markdown text (fmt "md") or as the JSON document (fmt "json")."""
    if fmt not in FORMATS:
        raise HotfixError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    rec = build_record(ctx, key)
    return render_markdown(rec) if fmt == "md" else rec


def records_dir(ctx: Context) -> Path:
    """Where the console writes records: `[export] dir`, else
    `$XDG_DATA_HOME/hotfix-tui/records/<repository>` (~/.local/share/…): never inside
    the checkout, where a record would show up in `git status`."""
    if ctx.config.export.dir:
        return Path(ctx.config.export.dir).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "hotfix-tui" / "records" / (ctx.repo.toplevel.name if ctx.repo
                                                    else "no-repository")


def default_record_path(ctx: Context, key: str) -> Path:
    return records_dir(ctx) / f"{key}-record.md"


def export_to_file(ctx: Context, key: str, path: Path | None = None) -> Path:
    """Write the Markdown record to `path` (a folder: `HF-<n>-record.md` in it; default:
    default_record_path), creating its folder; returns the file's path."""
    text = export(ctx, key, "md")
    with ctx.reading() as store:
        name = records.hotfix_row(store, key)["key"]
    target = Path(path).expanduser() if path is not None else default_record_path(ctx, name)
    if target.is_dir():
        target = target / f"{name}-record.md"
    try:
        sharing.make_dirs(target.parent)
    except OSError as exc:
        raise HotfixError(f"cannot create {target.parent}: {exc.strerror or exc}") from exc
    write_text(target, str(text))
    return target


def write_text(path: Path, text: str) -> None:
    """Write a file whole (a temp file renamed into place); a problem is one line."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        sharing.adopt(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise HotfixError(f"cannot write {path}: {exc.strerror or exc}") from exc
