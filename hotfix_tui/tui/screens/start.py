"""Start a hotfix from the dashboard, then pick commits from a searchable list."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Header, Input, Label, Select, Static

from ... import services
from ...clock import age, parse_iso
from ...core.errors import HotfixError
from ..base import BaseScreen
from ..messages import HotfixStarted
from ..widgets.columns import Column
from ..widgets.common import clean
from ..widgets.filtered import FilteredTable
from ..widgets.footer import KeyFooter


class StartHotfixScreen(BaseScreen):
    """Choose the base (defaults offered) and a title for a new hotfix."""

    BINDINGS = [
        Binding("escape", "back", "Cancel", id="back"),
        Binding("ctrl+s", "start", "Start", id="start"),
        Binding("question_mark", "help", "Help", key_display="?", id="help", show=False),
    ]
    CHANGING = frozenset({"start"})
    RELOAD_ON_RESUME = False

    def __init__(self, incident: str) -> None:
        super().__init__()
        self.incident = incident

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(classes="modal"):
            yield Label(f"Start a hotfix for {self.incident}", classes="modal-title",
                        markup=False)
            yield Label("Base release (what production runs is offered first):")
            yield Select([], id="base", allow_blank=True, prompt="loading releases…")
            yield Label("Title:")
            yield Input(id="title", placeholder="Cap gift card redemption at the order total")
            yield Static("", id="problem", classes="reasons", markup=False)
            with Horizontal(classes="modal-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Start", id="confirm", variant="primary")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#title", Input))

    def on_data_changed(self, message) -> None:
        message.prevent_default()  # no reload under the user's hands

    def fetch(self):
        return services.views.base_choices(self.ctx)

    def show(self, choices) -> None:
        select = self.query_one("#base", Select)
        select.set_options(choices)
        if choices:
            select.value = choices[0][1]
        else:
            self.query_one("#problem", Static).update("no release tags found")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.app.pop_screen()

    @on(Input.Submitted, "#title")
    @on(Button.Pressed, "#confirm")
    def action_start(self) -> None:
        if self.why_not("start"):
            self.notify(self.why_not("start"), severity="warning")
            return
        title = self.query_one("#title", Input).value.strip()
        base = self.query_one("#base", Select).value
        if not title:
            self.query_one("#problem", Static).update("a title is required")
            return
        base_ref = None if base is Select.BLANK else str(base)
        self.query_one("#problem", Static).update("starting: branch and worktree…")
        # keys typed from here on belong to the commit list this opens
        self._start(title, base_ref, self.hold("starting a hotfix"))

    @work(thread=True, group="action", exit_on_error=False)
    def _start(self, title: str, base: str | None, hold) -> None:
        try:
            started = services.start_hotfix(self.ctx, self.incident, title, base)
        except HotfixError as exc:
            self.app.call_from_thread(self._failed, str(exc), hold)
            return
        except Exception as exc:
            self.app.call_from_thread(self._failed, f"{type(exc).__name__}: {exc}", hold)
            return
        self.app.call_from_thread(self._started, started, hold)

    def _failed(self, message: str, hold) -> None:
        hold.release()
        self.query_one("#problem", Static).update(clean(f"refused: {message}"))

    def _started(self, started, hold) -> None:
        hold.release()
        hf = started.hotfix
        note = "; ".join(started.notes)
        self.notify(f"{hf.key} {hf.version} from {hf.base_ref}" + (f" ({note})" if note
                                                                     else ""),
                    title="hotfix started")
        self.post_message(HotfixStarted(hf.key))


class PickCommitsScreen(BaseScreen):
    """The default branch's commits the hotfix lacks (like `git log HEAD..main`, less the
    ones it has as a backport): filter with /, mark with space, pick with p; `a` shows the
    whole history, with how the hotfix has each commit it has."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("space", "mark", "Mark", id="mark"),
        Binding("p", "pick", "Pick marked", id="pick"),
        Binding("a", "everything", "All commits", id="everything"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
    ]
    CHANGING = frozenset({"pick"})
    RELOAD_ON_RESUME = False

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.commits = []
        self.marked: list[str] = []
        self.everything = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Pick commits into {self.key}: space marks, p picks them oldest first",
                     id="detail-line", markup=False)
        yield FilteredTable("commits", "/ filter by message, author or sha, enter: the list",
                            input_id="filter", cursor="top", columns=(
                                Column("", key="mark"), Column("sha"), Column("age", drop=2),
                                Column("author", most=14, drop=1),
                                Column("message", flex=True, min=20)))
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#commits", DataTable))

    def on_data_changed(self, message) -> None:
        message.prevent_default()  # no reload under the user's hands

    def fetch(self):
        return services.pick_candidates(self.ctx, self.key, self.everything)

    def show(self, picks) -> None:
        self.commits = list(picks.commits)
        listed = {c.commit.sha for c in self.commits}
        self.marked = [m for m in self.marked if m in listed]
        branch = clean(picks.branch)
        if picks.everything:
            line = (f"Pick commits into {self.key}: all of {branch}, newest first; "
                    f"{picks.lacking} not in {self.key} yet (a: only those)")
        else:
            hidden = (f"; {picks.hidden} it has as a backport not shown" if picks.hidden
                      else "")
            line = (f"Pick commits into {self.key}: {len(self.commits)} on {branch} it "
                    f"lacks{hidden} (a: all commits); space marks, p picks")
        self.query_one("#detail-line", Static).update(line)
        self._render_rows()

    def _render_rows(self) -> None:
        now = self.ctx.clock()
        rows = []
        for cand in self.commits:
            c = cand.commit
            mark = Text(str(self.marked.index(c.sha) + 1), style="bold green") \
                if c.sha in self.marked else ""
            when = age(parse_iso(c.date).isoformat().replace("+00:00", "Z"), now) \
                if c.date else ""
            subject = Text(clean(c.subject) + ("  (merge)" if c.parents > 1 else ""),
                           style="dim" if cand.carried else "")
            if cand.carried:
                subject.append(f"  [{clean(cand.carried)}]", style="dim italic")
            rows.append((c.sha, (mark, c.sha[:8], when, clean(c.author), subject),
                         f"{c.sha} {c.subject} {c.author}"))
        self.query_one(FilteredTable).set_rows(rows)

    def _current(self) -> str | None:
        return self.query_one(FilteredTable).current_key()

    def action_mark(self) -> None:
        sha = self._current()
        if sha is None:
            return
        if sha in self.marked:
            self.marked.remove(sha)
        else:
            self.marked.append(sha)
        row = self.query_one("#commits", DataTable).cursor_row
        self._render_rows()
        self.query_one("#commits", DataTable).move_cursor(row=row + 1)

    def action_everything(self) -> None:
        self.everything = not self.everything
        self.reload()

    def why_not(self, action: str) -> str | None:
        base = super().why_not(action)
        if base:
            return base
        if action == "pick" and not self.marked and self.is_mounted and self._current() is None:
            return "no commit selected"
        return None

    def action_pick(self) -> None:
        chosen = list(self.marked) or [self._current()]
        order = {c.commit.sha: i for i, c in enumerate(self.commits)}
        chosen.sort(key=lambda s: -order.get(s, 0))  # oldest first
        merges = [c for c in self.commits if c.commit.sha in chosen and c.commit.parents > 1]
        mainline = 1 if merges else None
        key = self.key
        self.run_service("pick", lambda: services.pick(self.ctx, key, chosen, mainline),
                         success=f"{len(chosen)} commit(s) picked into {key}",
                         after=self._picked, navigates=True)

    def _picked(self, done) -> None:
        for note in done.notes():
            self.notify(clean(note), title="already there")
        self.leave_fresh()  # the hotfix shows its new head when it appears

