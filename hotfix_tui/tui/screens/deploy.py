"""The deploy pane: a live (or replayed) run log, and verify, cancel, rollback, unlock."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Header, Input, Static

from ... import services
from ...clock import parse_iso
from ...core.models import Deploy, RunStatus
from ...services.views import RunView
from ..base import BaseScreen
from ..flows.runs import confirm_cancel, start_rollback, start_unlock, start_verify
from ..messages import Loaded
from ..widgets.common import clean, state
from ..widgets.logview import LogView


def outcome(d: Deploy) -> str:
    if d.signal:
        return f"{d.status} · signal {d.signal}"
    if d.exit_code is not None:
        return f"{d.status} · exit {d.exit_code}"
    return str(d.status)


class DeployScreen(BaseScreen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("c", "cancel_run", "Cancel run", id="cancel_run"),
        Binding("v", "verify", "Verify", id="verify"),
        Binding("R", "rollback", "Rollback", id="rollback"),
        Binding("u", "unlock", "Unlock", id="unlock"),
        Binding("slash", "search", "Search", key_display="/", id="search"),
        Binding("n", "next_match", "Next match", id="next_match", show=False),
        Binding("N", "prev_match", "Prev match", id="prev_match", show=False),
        Binding("G", "follow", "Follow", id="follow", show=False),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("q", "close", "Close", id="close", show=False),
    ]
    CHANGING = frozenset({"cancel_run", "verify", "rollback", "unlock"})

    def __init__(self, key: str, poll: float = 0.25) -> None:
        super().__init__()
        self.key = key
        self.run: Deploy | None = None
        self.env_locked = None
        self.reasons: dict[str, str | None] = {}
        self.poll = poll

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="log-header")
        with Horizontal(classes="env-row"):
            yield Static("", id="follow-state", classes="env-line", markup=False)
            yield Button("Rollback", id="rollback-button", variant="error", compact=True)
        yield LogView(self._fetch_lines, id="log")
        yield Input(placeholder="/ search the log (enter: find; n, N: next, previous)",
                    id="log-search", classes="filter", compact=True)
        yield Footer()

    def _fetch_lines(self, first: int, count: int):
        return services.run_lines(self.ctx, self.key, first, count)

    def on_mount(self) -> None:
        self.set_focus(self.query_one(LogView))
        self.set_interval(self.poll, self.reload)

    def fetch(self) -> RunView:
        return services.views.run_view(self.ctx, self.key)

    def show(self, data: RunView) -> None:
        self.run = data.run
        self.env_locked = data.environment
        self.reasons = data.reasons
        log = self.query_one(LogView)
        log.set_total(data.run.lines)
        self._header()
        self._follow_state(log.follow)

    def _header(self) -> None:
        d = self.run
        if d is None:
            return
        end = parse_iso(d.finished_at) if d.finished_at else self.ctx.clock()
        elapsed = int((end - parse_iso(d.started_at)).total_seconds())
        t = Text()
        t.append(f"{d.key} ", style="bold")
        t.append(clean(f"{d.kind} · {d.env} · {d.hotfix or '-'} · {d.version} ({d.sha[:10]}) · "
                       f"by {d.started_by}{'' if d.started_by_verified else ' (unverified)'}")
                 + "\n")
        t.append(f"{elapsed // 60:02d}:{elapsed % 60:02d} elapsed · {d.lines} lines · ")
        t.append_text(state(d.status))
        if d.status is not RunStatus.RUNNING:
            t.append(f" ({outcome(d)})")
        if d.break_glass:
            t.append("  BREAK-GLASS: no approval", style="bold white on red")
        if d.status is RunStatus.INTERRUPTED:
            t.append("  runner gone: outcome unknown", style="bold red")
        self.query_one("#log-header", Static).update(t)

    @on(LogView.FollowChanged)
    def _follow_changed(self, event: LogView.FollowChanged) -> None:
        self._follow_state(event.follow)

    def _follow_state(self, follow: bool) -> None:
        text = "following (scroll up to pause)" if follow else "paused — end or G follows"
        if self.env_locked is not None and self.env_locked.locked:
            text += f" · {self.env_locked.env} LOCKED by {clean(self.env_locked.locked_by)}: " \
                    f"{clean(self.env_locked.lock_reason)}"
        self.query_one("#follow-state", Static).update(text)

    def on_loaded(self, message: Loaded) -> None:
        if message.what == "error":
            message.stop()
            self.query_one("#log-header", Static).update(f"error: {message.data}")
            return
        super().on_loaded(message)

    def on_screen_resume(self) -> None:
        self.reload()

    # -- availability -------------------------------------------------------------------
    def binding_state(self):
        # under a log flood the pane reloads several times a second: rebuild the footer
        # only when an action's availability can have changed
        return (tuple(sorted(self.reasons.items())), bool(self.query_one(LogView).matches))

    def why_not(self, action: str) -> str | None:
        base = super().why_not(action)
        if base:
            return base
        if self.run is None:
            return "loading…" if action in self.CHANGING else None
        if action in ("next_match", "prev_match") and not self.query_one(LogView).matches:
            return "search first (/)"
        return self.reasons.get(action)

    # -- actions -----------------------------------------------------------------------------
    def action_cancel_run(self) -> None:
        confirm_cancel(self, self.run)

    def action_verify(self) -> None:
        start_verify(self, None, hotfix_key=self.run.hotfix, env=self.run.env)

    def action_rollback(self) -> None:
        start_rollback(self, self.run.env)

    @on(Button.Pressed, "#rollback-button")
    def _rollback_button(self) -> None:
        why = self.why_not("rollback")
        if why:
            self.notify(f"Rollback: {why}", severity="warning", title="Not available")
            return
        self.action_rollback()

    def action_unlock(self) -> None:
        start_unlock(self, self.run.env)

    def action_follow(self) -> None:
        self.query_one(LogView).action_follow()

    def action_search(self) -> None:
        self.set_focus(self.query_one("#log-search", Input))

    @on(Input.Submitted, "#log-search")
    def _search(self, event: Input.Submitted) -> None:
        self._find(event.value.strip())
        self.set_focus(self.query_one(LogView))

    def on_key(self, event) -> None:
        box = self.query_one("#log-search", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            self.set_focus(self.query_one(LogView))
            return
        super().on_key(event)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _find(self, term: str) -> None:
        matches = services.search_log(self.ctx, self.key, term)
        self.app.call_from_thread(self._found, term, matches)

    def _found(self, term: str, matches: list[int]) -> None:
        log = self.query_one(LogView)
        log.set_matches(term, matches)
        if matches:
            log.jump(True)
            self.notify(f"{len(matches)} line(s) match {term!r}: n next, N previous")
        elif term:
            self.notify(f"no line matches {term!r}", severity="warning")
        self.refresh_bindings()

    def action_next_match(self) -> None:
        self.query_one(LogView).jump(True)

    def action_prev_match(self) -> None:
        self.query_one(LogView).jump(False)
