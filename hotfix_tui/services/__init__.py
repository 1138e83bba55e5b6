"""Use cases shared by the CLI and the console. Neither face touches SQLite or git directly."""

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
from .syncing import describe_conflict, merged_history, sync_later
from .syncing import sync as sync_history
from .timeline import timeline
from .verify import verify, verify_env, verify_items

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
