"""The review queue: what waits for the acting user's approval; a approves, x rejects."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from ... import services
from ...clock import age
from ..base import BaseScreen
from ..widgets.common import clean, plain, state
from ..widgets.filtered import FilteredTable


def approval_summary(detail) -> str:
    """Exactly what an approval will be bound to, for the confirmation."""
    hf = detail.hotfix
    lines = [f"{hf.key}  {hf.title}",
             f"incident {hf.incident} · {hf.version} · author {hf.author}",
             f"head sha  {hf.head_sha}"]
    if detail.binding is not None:
        lines.append(f"tree sha  {detail.binding.tree_sha}")
    if detail.scope:
        sc = detail.scope
        lines.append(f"diffstat  {sc.files_changed} files, +{sc.insertions} -{sc.deletions} "
                     f"({sc.commits} commits)")
        for f in sc.files[:8]:
            lines.append(f"  {f.status} {f.path}  " + ("bin" if f.binary else
                                                      f"+{f.insertions} -{f.deletions}"))
        if len(sc.files) > 8:
            lines.append(f"  … {len(sc.files) - 8} more files")
    lines.append("checklist:")
    for item in hf.checklist:
        if item.automatic:
            lines.append(f"  {'pass' if item.passed else 'FAIL'} {item.text} ({item.detail})")
        else:
            lines.append(f"  {'[x]' if item.checked else '[ ]'} {item.text}"
                         + (f" — {item.checked_by}" if item.checked else ""))
    violations = detail.scope.violations if detail.scope else ()
    if violations:
        lines.append("scope violations:")
        lines += [f"  {v.rule}: {v.detail}" for v in violations]
        if hf.scope_accepted_reason:
            lines.append(f"  accepted by the author: {hf.scope_accepted_reason}")
    else:
        lines.append("scope violations: none")
    if hf.needs_retroactive_approval:
        lines.append("BREAK-GLASS: this approves a deploy made without approval")
    return "\n".join(clean(x) if i else x for i, x in enumerate(lines))


def confirm_approve(screen, detail) -> None:
    from ..widgets.confirm import ConfirmModal

    key = detail.hotfix.key
    head = detail.hotfix.head_sha
    expected = detail.binding

    def done(ok: bool) -> None:
        if ok:
            screen.run_service("approve", lambda: services.approve(
                screen.ctx, key, expected_head=head, expected=expected),
                success=f"{key} approved at {head[:10]}")

    screen.app.push_screen(ConfirmModal(f"Approve {key}?", approval_summary(detail),
                                        "Approve"), done)


def confirm_reject(screen, key: str) -> None:
    from ..widgets.confirm import PromptModal

    def done(comment: str | None) -> None:
        if comment:
            screen.run_service("reject", lambda: services.reject(screen.ctx, key, comment),
                               success=f"{key} rejected: back to draft")

    screen.app.push_screen(PromptModal(f"Reject {key}", "Why (the author needs to know):",
                                       "Reject"), done)


class ReviewScreen(BaseScreen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("a", "approve", "Approve", id="approve"),
        Binding("x", "reject", "Reject", id="reject"),
        Binding("enter", "open", "Open", id="open", show=False),
        Binding("slash", "filter", "Filter", key_display="/", id="filter"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("q", "close", "Close", id="close", show=False),
    ]
    CHANGING = frozenset({"approve", "reject"})

    def __init__(self) -> None:
        super().__init__()
        self.items = []
        self.details = {}
        self.reasons = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Waiting for your approval", id="detail-line", markup=False)
        yield FilteredTable("queue", "/ filter by key, title, author or incident")
        yield Static("", id="reasons", classes="reasons", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        t = self.query_one("#queue", DataTable)
        t.add_column("key", width=6)
        t.add_column("state", width=10)
        t.add_column("incident", width=8)
        t.add_column("author", width=10)
        t.add_column("age", width=5)
        t.add_column("title", width=60)
        self.set_focus(t)

    def fetch(self):
        items = services.review_queue(self.ctx)
        details = {}
        reasons = {}
        for h in items[:50]:
            d = services.views.hotfix_detail(self.ctx, h.key)
            details[h.key] = d
            reasons[h.key] = services.views.action_reasons(self.ctx, d)
        return items, details, reasons

    def show(self, data) -> None:
        self.items, self.details, self.reasons = data
        now = self.ctx.clock()
        self.query_one(FilteredTable).set_rows([
            (h.key, (h.key, state(h.state), h.incident, plain(h.author), age(h.updated_at, now),
                     plain(h.title)), f"{h.key} {h.title} {h.author} {h.incident}")
            for h in self.items])
        line = self.query_one("#detail-line", Static)
        line.update(f"{len(self.items)} hotfix(es) wait for your approval" if self.items else
                    "nothing waits for your approval")
        self._show_reasons()

    def _current(self):
        t = self.query_one("#queue", DataTable)
        if t.row_count == 0:
            return None
        return t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value

    @on(DataTable.RowHighlighted)
    def _show_reasons(self) -> None:
        key = self._current()
        text = ""
        if key:
            why = self.why_not("approve")
            if why:
                text = f"approve: {why}"
        self.query_one("#reasons", Static).update(text)
        self.refresh_bindings()

    def why_not(self, action: str) -> str | None:
        base = super().why_not(action)
        if base:
            return base
        key = self._current() if self.is_mounted else None
        if action in ("approve", "reject", "open"):
            if key is None:
                return "nothing selected"
            if action != "open":
                return self.reasons.get(key, {}).get(action)
        return None

    def action_approve(self) -> None:
        confirm_approve(self, self.details[self._current()])

    def action_reject(self) -> None:
        confirm_reject(self, self._current())

    def action_open(self) -> None:
        from .hotfix import HotfixScreen

        self.app.push_screen(HotfixScreen(self._current()))

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_open()


