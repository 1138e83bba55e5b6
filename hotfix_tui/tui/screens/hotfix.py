"""One hotfix: documentation, scope checklist, diff, approvals, timeline and deploys."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import (
    DataTable,
    Header,
    Input,
    Label,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)

from ... import services
from ...core.approval import valid_approvers
from ...core.models import HotfixState
from ...core.sanitize import visible
from ...services.views import HotfixDetail
from ..base import BaseScreen
from ..flows.review import confirm_approve, confirm_reject
from ..flows.runs import start_deploy, start_rollback, start_verify
from ..messages import OpenRun, PickCommits
from ..widgets import hotfix_tabs as tabs
from ..widgets.common import clean, release_path_line, state, wrap_parts
from ..widgets.confirm import ConfirmModal
from ..widgets.diffview import DiffView, prepare
from ..widgets.fittable import FitTable
from ..widgets.footer import KeyFooter

TABS = (("overview", "Overview"), ("scope", "Scope"), ("diff", "Diff"),
        ("approvals", "Approvals"), ("timeline", "Timeline"), ("deploys", "Deploys"))
FIELDS = (("why", "Why (what is broken, and why this fixes it)"),
          ("risk", "Risk (what could go wrong)"),
          ("test_plan", "Test plan"),
          ("rollback_plan", "Rollback plan"))


class HotfixScreen(BaseScreen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("ctrl+s", "save", "Save", id="save"),
        Binding("s", "submit", "Submit", id="submit"),
        Binding("a", "approve", "Approve", id="approve"),
        Binding("x", "reject", "Reject", id="reject"),
        Binding("p", "pick", "Pick", id="pick"),
        Binding("d", "deploy", "Deploy", id="deploy"),
        Binding("B", "break_glass", "Break-glass", id="break_glass", show=False),
        Binding("v", "verify", "Verify", id="verify"),
        Binding("R", "rollback", "Rollback", id="rollback", show=False),
        Binding("f", "finish", "Finish", id="finish"),
        Binding("space", "tick", "Tick", id="tick", show=False),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("q", "close", "Close", id="close", show=False),
        *[Binding(str(i), f"tab('{tab}')", label, id=f"tab_{tab}", show=False)
          for i, (tab, label) in enumerate(TABS, 1)],
    ]
    CHANGING = frozenset({"save", "submit", "approve", "reject", "pick", "deploy",
                          "break_glass", "verify", "rollback", "tick", "finish"})

    def __init__(self, key: str, readonly: bool | None = None) -> None:
        super().__init__()
        self.key = key
        self.detail: HotfixDetail | None = None
        self.reasons: dict[str, str | None] = {}
        self.saved: dict[str, str] = {}
        self.force_readonly = readonly

    @property
    def readonly(self) -> bool:
        return bool(self.force_readonly) or self.app.readonly

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="hf-header", markup=False)
        yield Static("", id="hf-banner", classes="banner-breakglass hidden", markup=False)
        with TabbedContent(id="tabs"):
            with TabPane("Overview", id="overview"), VerticalScroll(id="overview-scroll"):
                yield Label("Title", classes="field-label")
                yield Input(id="f-title", compact=True)
                for name, label in FIELDS:
                    yield Label(label, classes="field-label")
                    yield TextArea(id=f"f-{name}", classes="doc-area", soft_wrap=True,
                                   compact=True)
            with TabPane("Scope", id="scope"):
                yield FitTable(tabs.CHECKLIST, id="checklist")
                yield FitTable(tabs.DIFFSTAT, id="diffstat")
            with TabPane("Diff", id="diff"), Horizontal():
                yield FitTable(tabs.DIFF_FILES, id="diff-files")
                yield DiffView(id="diff-view")
            with TabPane("Approvals", id="approvals"):
                yield FitTable(tabs.APPROVALS, id="approval-table")
            with TabPane("Timeline", id="timeline"):
                yield FitTable(tabs.EVENTS, id="event-table")
            with TabPane("Deploys", id="deploys"):
                yield FitTable(tabs.DEPLOYS, id="deploy-table")
        yield Static("", id="reasons", classes="reasons", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        for widget in self.query("Input, TextArea"):
            widget.disabled = True  # until the record has loaded: typing must not be lost

    def fetch(self):
        detail = services.views.hotfix_detail(self.ctx, self.key)
        return detail, services.views.action_reasons(self.ctx, detail)

    # -- rendering --------------------------------------------------------------------
    def show(self, data) -> None:
        detail, reasons = data
        self.detail = detail
        self.reasons = reasons
        hf = detail.hotfix
        self._header()
        banner = self.query_one("#hf-banner", Static)
        problems = []
        if hf.break_glass:
            problems.append("BREAK-GLASS: deployed without approval "
                            f"({clean(hf.break_glass_reason)})"
                            + (" — approval after the fact required"
                               if hf.needs_retroactive_approval else ""))
        if detail.worktree_missing:
            problems.append(f"worktree missing: {clean(hf.worktree)}" + (
                "" if self.readonly else f" — run 'hotfix worktree {hf.key}' to recreate it"))
        if detail.error:
            problems.append(clean(detail.error))
        banner.update("\n".join(problems))
        banner.set_class(not problems, "hidden")
        self._show_fields(hf)
        editable = not self.readonly and reasons.get("save") is None
        for widget in self.query("#overview Input, #overview TextArea"):
            widget.disabled = not editable
        self._show_scope(detail)
        self._show_files(detail)
        self.query_one("#approval-table", FitTable).set_rows(
            tabs.approval_rows(hf, self.ctx.clock()))
        self.query_one("#event-table", FitTable).set_rows(tabs.event_rows(detail.events))
        self.query_one("#deploy-table", FitTable).set_rows(tabs.deploy_rows(detail.deploys))
        self._show_reasons()

    def _header(self) -> None:
        """Key, state and title; then the facts, wrapped between facts (never cut in one)
        to the width, the approvals count first; then the release path."""
        if self.detail is None:
            return
        hf = self.detail.hotfix
        required = self.ctx.config.approvals.required
        valid = valid_approvers(hf.approvals)
        head = Text()
        head.append(f"{hf.key} ", style="bold")
        head.append_text(state(hf.state))
        head.append(f"  {clean(hf.title)}\n", style="bold")
        facts = [f"approvals {len(valid)}/{required}", hf.incident, hf.version,
                 f"{clean(hf.branch)} from {clean(hf.base_ref)}", f"head {hf.head_sha[:10]}",
                 f"by {clean(hf.author)}{'' if hf.author_verified else ' (unverified)'}"]
        width = self.query_one("#hf-header", Static).content_region.width or self.size.width
        head.append(wrap_parts(facts, max(20, width - 1)), style="dim")
        head.append_text(release_path_line(self.detail.path))
        self.query_one("#hf-header", Static).update(head)

    def on_resize(self) -> None:
        self._header()

    def _show_fields(self, hf) -> None:
        # what a field holds is edited as it is shown: an unsafe character a record of an
        # older version holds appears as <U+XXXX>, and stays so if the field is saved
        values = {"title": clean(hf.title),
                  **{n: visible(getattr(hf, n)) for n, _ in FIELDS}}
        for name, value in values.items():
            widget = self.query_one(f"#f-{name}")
            current = widget.value if isinstance(widget, Input) else widget.text
            if name in self.saved and current != self.saved[name]:
                continue  # the user is editing: never overwrite unsaved work
            if isinstance(widget, Input):
                widget.value = value
            else:
                widget.load_text(value)
            self.saved[name] = value
        self._mark_dirty()

    def _dirty(self) -> list[str]:
        out = []
        for name in ("title", *[n for n, _ in FIELDS]):
            widget = self.query_one(f"#f-{name}")
            current = widget.value if isinstance(widget, Input) else widget.text
            if name in self.saved and current != self.saved[name]:
                out.append(name)
        return out

    def _mark_dirty(self) -> None:
        dirty = self._dirty()
        tabs = self.query_one("#tabs", TabbedContent)
        tab = tabs.get_tab("overview")
        tab.label = "Overview *" if dirty else "Overview"
        self._show_reasons()

    @on(TextArea.Changed)
    @on(Input.Changed, "#f-title")
    def _edited(self) -> None:
        # Typing must stay cheap: mark unsaved changes at most every 150 ms, not per key.
        if not getattr(self, "_dirty_pending", False):
            self._dirty_pending = True
            self.set_timer(0.15, self._mark_dirty_later)

    def _mark_dirty_later(self) -> None:
        self._dirty_pending = False
        self._mark_dirty()

    def _show_scope(self, detail: HotfixDetail) -> None:
        self.query_one("#checklist", FitTable).set_rows(tabs.checklist_rows(detail))
        self.query_one("#diffstat", FitTable).set_rows(tabs.diffstat_rows(detail.scope))

    def _show_files(self, detail: HotfixDetail) -> None:
        t = self.query_one("#diff-files", FitTable)
        before = t.row_count
        t.set_rows(tabs.file_rows(detail.scope))
        head, shown = detail.hotfix.head_sha, getattr(self, "_diff_head", None)
        self._diff_head = head
        if not t.row_count:
            return
        if before == 0:
            self._load_diff(detail.scope.files[0].path)
        elif head != shown:  # a new commit: the same files may show, with new changes
            self._load_diff(t.current_key() or detail.scope.files[0].path)

    def _show_reasons(self) -> None:
        lines = []
        if self._dirty():
            lines.append("unsaved changes in Overview — ctrl+s saves")
        hf = self.detail.hotfix if self.detail else None
        submit = self.reasons.get("submit") if hf is not None else None
        if hf is not None and hf.state is HotfixState.DRAFT and submit and not self.readonly:
            parts = submit.split("; ")
            lines.append("to submit: " + parts[0])
            lines += [f"           {p}" for p in parts[1:3]]
            if len(parts) > 3:
                lines.append(f"           … and {len(parts) - 3} more (s lists them all)")
        else:
            for action in ("submit", "approve", "deploy"):
                why = self.why_not(action)
                if why and not self.readonly:
                    lines.append(f"{action}: {why}")
        self.query_one("#reasons", Static).update("\n".join(lines[:5]))
        self.refresh_bindings()

    # -- availability -------------------------------------------------------------------
    def why_not(self, action: str) -> str | None:
        base = super().why_not(action)
        if base:
            return base
        if self.detail is None:
            return "loading…" if action in self.CHANGING else None
        if action == "save" and not self.reasons.get("save") and not self._dirty():
            return "no unsaved changes"
        if action == "tick":
            tabs = self.query_one("#tabs", TabbedContent)
            if tabs.active != "scope":
                return "open the Scope tab to tick checklist items"
        return self.reasons.get(action)

    # -- actions ---------------------------------------------------------------------------
    def action_tab(self, tab: str) -> None:
        """Digits 1-6 switch tabs (while no text field has focus)."""
        self.query_one("#tabs", TabbedContent).active = tab
        pane = self.query_one(f"#{tab}", TabPane)
        target = next(iter(pane.query("DataTable, Input")), None)
        if target is not None:
            self.set_focus(target)

    def on_key(self, event) -> None:
        if event.key == "escape" and isinstance(self.focused, Input | TextArea):
            # leave the text field first; a second esc goes back
            event.stop()
            event.prevent_default()  # not BaseScreen.on_key (called next otherwise)
            self.set_focus(self.query_one("#tabs", TabbedContent).query_one("Tabs"))

    def action_save(self) -> None:
        values = {}
        for name in self._dirty():
            widget = self.query_one(f"#f-{name}")
            values[name] = widget.value if isinstance(widget, Input) else widget.text
        key = self.key

        def saved(_result) -> None:
            self.saved.update({k: v.strip() if k != "title" else " ".join(v.split())
                               for k, v in values.items()})
            for k in values:
                widget = self.query_one(f"#f-{k}")
                if isinstance(widget, Input):
                    widget.value = self.saved[k]
                else:
                    widget.load_text(self.saved[k])
            self._mark_dirty()

        self.run_service("save", lambda: services.edit(self.ctx, key, **values),
                         success=f"{key}: saved {', '.join(values)}", after=saved)

    def action_tick(self) -> None:
        t = self.query_one("#checklist", DataTable)
        if t.row_count == 0 or self.detail is None:
            return
        n = int(t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value)
        item = next(i for i in self.detail.hotfix.checklist if i.n == n)
        if item.automatic:
            self.notify(f"item {n} is automatic: computed from the diff", severity="warning")
            return
        key = self.key
        verb = "unticked" if item.checked else "ticked"
        self.run_service("checklist", lambda: services.check(self.ctx, key, n,
                                                             not item.checked),
                         success=f"{verb} {n}: {clean(item.text)}",
                         plural=f"{{n}} items {verb}")  # one toast for a run of ticks

    @on(DataTable.RowSelected, "#checklist")
    def _checklist_enter(self) -> None:
        if not self.why_not("tick"):
            self.action_tick()

    def action_submit(self) -> None:
        key = self.key
        self.run_service("submit", lambda: services.submit(self.ctx, key),
                         success=f"{key} submitted for review")

    def action_approve(self) -> None:
        confirm_approve(self, self.detail)

    def action_reject(self) -> None:
        confirm_reject(self, self.detail.hotfix.key)

    def action_pick(self) -> None:
        self.post_message(PickCommits(self.key))

    def action_deploy(self) -> None:
        start_deploy(self, self.detail.hotfix, break_glass=False)

    def action_break_glass(self) -> None:
        start_deploy(self, self.detail.hotfix, break_glass=True)

    def action_verify(self) -> None:
        start_verify(self, self.detail.hotfix, env=self.detail.verify_env)

    def action_finish(self) -> None:
        hf = self.detail.hotfix
        cfg = self.ctx.config.hotfix
        tag = cfg.tag_format.format(version=hf.version)
        body = (f"Finish {hf.key}:\n"
                f"  tag {tag} at the deployed commit\n"
                f"  forward-port its commits into: {', '.join(cfg.forward_port) or 'nothing'}"
                "\n  (a branch that has a commit by ancestry, a cherry-pick or the same "
                "patch is not given it again; one that probably has it, or a conflict, stops "
                "the finish and says what to do)\nNothing is pushed from here.")
        key = self.key

        def finished(result) -> None:
            if result is not None and result.stopped:
                self.notify(result.stop_message(), severity="warning", timeout=20,
                            title="finish stopped")

        self.app.push_screen(
            ConfirmModal(f"Finish {hf.key}", body, "Finish"),
            lambda ok: ok and self.run_service(
                "finish", lambda: services.finish(self.ctx, key),
                success=f"{key}: finish ran (tag {tag})", after=finished))

    def action_rollback(self) -> None:
        start_rollback(self, self.detail.rollback_env)

    # -- diff, lazily per file -----------------------------------------------------------
    @on(DataTable.RowHighlighted, "#diff-files")
    def _file_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value:
            self._load_diff(event.row_key.value)

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False)
    def _load_diff(self, path: str) -> None:
        try:
            text = services.views.diff_for(self.ctx, self.key, path)
        except Exception as exc:
            text = f"could not load the diff: {exc}"
        lines = prepare(text or f"{path}: no textual changes")  # coloured here, off the loop
        self.app.call_from_thread(self._show_diff, lines)

    def _show_diff(self, lines) -> None:
        self.query_one(DiffView).set_lines(lines)

    @on(DataTable.RowSelected, "#deploy-table")
    def _open_deploy(self, event: DataTable.RowSelected) -> None:
        self.post_message(OpenRun(event.row_key.value))
