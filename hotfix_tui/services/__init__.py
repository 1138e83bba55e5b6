"""Use cases shared by the CLI and the console. Neither face touches SQLite or git directly.

A use case's module is loaded when one of its names is first used (`services.list_hotfixes`
loads `hotfixes_read` and what it needs, not the deploy or finish code): most of a CLI
command's time was spent importing use cases it never ran. `services.NAME` always means the
function or class below, also where NAME is the name of a module too (`export`, `finish`,
`missing`, `rollback`, `timeline`, `verify`).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what the names are, for readers and tools; loaded on first use
    from . import refusals, views
    from .audit import verify_audit
    from .changes import Changes, watch_changes
    from .commands import observe_commands
    from .context import Context, open_context, probe_store
    from .deploys import DeployPreview, deploy, deploy_blockers, deploy_preview, deploy_previews
    from .environments import adopt, lock, status, unlock
    from .events import deliver_hooks, hook_deliveries, hook_outcomes_since, watch_events
    from .export import build_record, default_record_path, export, export_to_file
    from .finish import finish
    from .finish_push import finish_abort, push_finished
    from .finish_state import AbortResult, BranchResult, FinishResult
    from .history import history_page, hotfix_page, list_page
    from .hotfixes import Started, abandon, edit, repair_worktree, start_hotfix, sync
    from .hotfixes_read import get_hotfix, list_hotfixes
    from .imports import ImportResult, import_incidents
    from .incidents import (
        add_note,
        assign_commander,
        get_incident,
        list_incidents,
        open_incident,
        set_incident_status,
    )
    from .init import init_config
    from .missing import MissingReport, PickList, missing, pick_candidates
    from .picks import Picked, pick, pick_abort, pick_continue, pick_skip
    from .promotion import Step, hotfix_path
    from .review import approve, check, checklist, reject, review_queue, scope, show, submit
    from .rollback import rollback, rollback_preview
    from .runs import (
        cancel,
        follow_log,
        list_runs,
        output_rate,
        run_lines,
        run_log,
        search_log,
        show_run,
        wait_run,
    )
    from .syncing import describe_conflict, merged_history, sync_history, sync_later
    from .timeline import timeline
    from .verify import verify, verify_env, verify_items

# name → the module of this package that defines it
_WHERE = {
    "verify_audit": "audit",
    "Changes": "changes",
    "watch_changes": "changes",
    "observe_commands": "commands",
    "Context": "context",
    "open_context": "context",
    "probe_store": "context",
    "DeployPreview": "deploys",
    "deploy": "deploys",
    "deploy_blockers": "deploys",
    "deploy_preview": "deploys",
    "deploy_previews": "deploys",
    "adopt": "environments",
    "lock": "environments",
    "status": "environments",
    "unlock": "environments",
    "deliver_hooks": "events",
    "hook_deliveries": "events",
    "hook_outcomes_since": "events",
    "watch_events": "events",
    "build_record": "export",
    "default_record_path": "export",
    "export": "export",
    "export_to_file": "export",
    "finish": "finish",
    "finish_abort": "finish_push",
    "push_finished": "finish_push",
    "AbortResult": "finish_state",
    "BranchResult": "finish_state",
    "FinishResult": "finish_state",
    "history_page": "history",
    "hotfix_page": "history",
    "list_page": "history",
    "Started": "hotfixes",
    "abandon": "hotfixes",
    "edit": "hotfixes",
    "repair_worktree": "hotfixes",
    "start_hotfix": "hotfixes",
    "sync": "hotfixes",
    "get_hotfix": "hotfixes_read",
    "list_hotfixes": "hotfixes_read",
    "ImportResult": "imports",
    "import_incidents": "imports",
    "add_note": "incidents",
    "assign_commander": "incidents",
    "get_incident": "incidents",
    "list_incidents": "incidents",
    "open_incident": "incidents",
    "set_incident_status": "incidents",
    "init_config": "init",
    "MissingReport": "missing",
    "PickList": "missing",
    "missing": "missing",
    "pick_candidates": "missing",
    "Picked": "picks",
    "pick": "picks",
    "pick_abort": "picks",
    "pick_continue": "picks",
    "pick_skip": "picks",
    "Step": "promotion",
    "hotfix_path": "promotion",
    "approve": "review",
    "check": "review",
    "checklist": "review",
    "reject": "review",
    "review_queue": "review",
    "scope": "review",
    "show": "review",
    "submit": "review",
    "rollback": "rollback",
    "rollback_preview": "rollback",
    "cancel": "runs",
    "follow_log": "runs",
    "list_runs": "runs",
    "output_rate": "runs",
    "run_lines": "runs",
    "run_log": "runs",
    "search_log": "runs",
    "show_run": "runs",
    "wait_run": "runs",
    "describe_conflict": "syncing",
    "merged_history": "syncing",
    "sync_history": "syncing",
    "sync_later": "syncing",
    "timeline": "timeline",
    "verify": "verify",
    "verify_env": "verify",
    "verify_items": "verify",
}


class _Services(types.ModuleType):
    def __getattribute__(self, name: str):
        where = _WHERE.get(name)
        if where is not None:  # before the module's own attributes: `export` is a function
            return getattr(importlib.import_module(f"{__name__}.{where}"), name)
        return super().__getattribute__(name)


def __getattr__(name: str):
    """A module of this package (`services.views`, `services.refusals`), loaded on first use."""
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


sys.modules[__name__].__class__ = _Services

__all__ = [
    "Changes",
    "Context",
    "follow_log",
    "observe_commands",
    "probe_store",
    "refusals",
    "output_rate",
    "run_lines",
    "search_log",
    "views",
    "wait_run",
    "watch_changes",
    "adopt",
    "cancel",
    "deploy",
    "deploy_blockers",
    "deploy_preview",
    "deploy_previews",
    "DeployPreview",
    "Step",
    "hotfix_path",
    "list_runs",
    "lock",
    "rollback",
    "rollback_preview",
    "run_log",
    "show_run",
    "status",
    "unlock",
    "verify",
    "verify_items",
    "verify_env",
    "Started",
    "abandon",
    "add_note",
    "approve",
    "assign_commander",
    "check",
    "checklist",
    "edit",
    "get_hotfix",
    "get_incident",
    "history_page",
    "hotfix_page",
    "list_page",
    "init_config",
    "list_hotfixes",
    "list_incidents",
    "open_context",
    "open_incident",
    "pick",
    "pick_abort",
    "pick_continue",
    "pick_skip",
    "pick_candidates",
    "Picked",
    "PickList",
    "reject",
    "repair_worktree",
    "review_queue",
    "scope",
    "set_incident_status",
    "show",
    "start_hotfix",
    "submit",
    "sync",
    "sync_history",
    "describe_conflict",
    "merged_history",
    "sync_later",
    "verify_audit",
    "AbortResult",
    "BranchResult",
    "FinishResult",
    "ImportResult",
    "MissingReport",
    "build_record",
    "deliver_hooks",
    "hook_deliveries",
    "hook_outcomes_since",
    "watch_events",
    "export",
    "export_to_file",
    "default_record_path",
    "finish",
    "finish_abort",
    "import_incidents",
    "missing",
    "push_finished",
    "timeline",
]
