"""Use cases shared by the CLI and the console. Neither face touches SQLite or git directly."""

from . import views
from .audit import verify_audit
from .context import Context, open_context
from .deploys import (
    adopt,
    cancel,
    deploy,
    deploy_blockers,
    deploy_preview,
    list_runs,
    lock,
    rollback,
    rollback_preview,
    run_log,
    show_run,
    status,
    unlock,
    verify,
    verify_items,
)
from .events import deliver_hooks, hook_deliveries, hook_outcomes_since, watch_events
from .export import build_record, export, export_to_file
from .finish import finish, finish_abort, push_finished
from .finish_state import AbortResult, BranchResult, FinishResult
from .history import history_page
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
from .review import approve, check, checklist, reject, review_queue, scope, show, submit
from .timeline import timeline

__all__ = [
    "Context",
    "views",
    "adopt",
    "cancel",
    "deploy",
    "deploy_blockers",
    "deploy_preview",
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
    "finish",
    "finish_abort",
    "import_incidents",
    "missing",
    "push_finished",
    "timeline",
]
