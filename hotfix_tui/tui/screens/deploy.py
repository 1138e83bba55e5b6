"""The deploy pane: a live (or replayed) run log, and verify, cancel, rollback, unlock."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Header, Input, Sparkline, Static

from ... import services
from ...clock import parse_iso
from ...core.estimate import Progress
from ...core.models import Deploy, RunStatus
from ..base import BaseScreen
from ..flows.runs import (
    confirm_cancel,
    start_lock,
    start_rollback,
    start_unlock,
    start_verify,
)
from ..widgets.common import clean, state
from ..widgets.footer import KeyFooter
from ..widgets.logview import LogView
from ..widgets.runprogress import progress_text, rate_series


def outcome(d: Deploy) -> str:
    """How the command ended, beside the status: "signal 15", "exit 1", or nothing."""
    if d.signal:
        return f"signal {d.signal}"
    if d.exit_code is not None:
        return f"exit {d.exit_code}"
    return ""


class DeployScreen(BaseScreen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("c", "cancel_run", "Cancel run", id="cancel_run"),
        Binding("v", "verify", "Verify", id="verify"),
        Binding("R", "rollback", "Rollback", id="rollback"),
        Binding("u", "unlock", "Unlock", id="unlock"),
        Binding("l", "lock", "Lock", id="lock", show=False),
        Binding("slash", "search", "Search", key_display="/", id="search"),
        Binding("n", "next_match", "Next match", id="next_match", show=False),
        Binding("N", "prev_match", "Prev match", id="prev_match", show=False),
        Binding("G", "follow", "Follow", id="follow", show=False),
        Binding("w", "wrap", "Wrap", id="wrap", show=False),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("q", "close", "Close", id="close", show=False),
    ]
    CHANGING = frozenset({"cancel_run", "verify", "rollback", "unlock", "lock"})
    RATE_WIDTH = 24  # the sparkline's buckets

    def __init__(self, key: str, poll: float = 0.25) -> None:
        super().__init__()
        self.key = key
        self.run: Deploy | None = None
        self.env_locked = None
        self.reasons: dict[str, str | None] = {}
        self.expected: float | None = None
        self.poll = poll
        self.rate: dict[int, int] = {}  # lines per second since the run started
        self.rate_seq = 0  # lines counted into `rate` so far

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="log-header")
        with Horizontal(id="run-status"):
            yield Static("", id="status-text")
            yield Sparkline([], id="rate", summary_function=max)
        yield Static("", id="progress-text", markup=False)
        with Horizontal(classes="env-row"):
            yield Static("", id="follow-state", classes="env-line", markup=False)
            if not self.readonly:
                yield Button("Rollback", id="rollback-button", variant="error", compact=True)
        yield LogView(self._fetch_lines, id="log")
        yield Input(placeholder="/ search the log (enter: find; n, N: next, previous)",
                    id="log-search", classes="filter", compact=True)
        yield KeyFooter()

    def _fetch_lines(self, first: int, count: int):
        return services.run_lines(self.ctx, self.key, first, count)

    def on_mount(self) -> None:
        self.set_focus(self.query_one(LogView))
        self.set_interval(self.poll, self.reload)

    def fetch(self):
        after = self.rate_seq
        view = services.views.run_view(self.ctx, self.key)
        return view, (after, *services.output_rate(self.ctx, self.key, after))

    def show(self, data) -> None:
        view, (after, last, counts) = data
        self.run = view.run
        self.env_locked = view.environment
        self.reasons = view.reasons
        self.expected = view.expected_s
        if after == self.rate_seq:  # not counted twice by two looks at once
            for second, n in counts.items():
                self.rate[second] = self.rate.get(second, 0) + n
            self.rate_seq = last
        log = self.query_one(LogView)
        log.set_total(view.run.lines)
        self._header()
        self._progress()
        self._follow_state(log.follow)

    def _header(self) -> None:
        d = self.run
        if d is None:
            return
        t = Text()
        t.append(f"{d.key} ", style="bold")
        t.append(clean(f"{d.kind} · {d.env} · {d.hotfix or '-'} · {d.version} ({d.sha[:10]}) "
                       f"· by {d.started_by}{'' if d.started_by_verified else ' (unverified)'}"))
        self.query_one("#log-header", Static).update(t)
        status = state(d.status)
        if outcome(d):
            status.append(f" ({outcome(d)})")
        status.append(f" · {d.lines} lines")
        if d.break_glass:
            status.append("  BREAK-GLASS: no approval", style="bold white on red")
        if d.status is RunStatus.INTERRUPTED:
            status.append("  runner gone: outcome unknown", style="bold red")
        self.query_one("#status-text", Static).update(status)

    def _progress(self) -> None:
        """The bar and estimate (the environment's usual duration for this kind of run),
        and the output rate over the run."""
        d = self.run
        end = parse_iso(d.finished_at) if d.finished_at else self.ctx.clock()
        elapsed = max(0.0, (end - parse_iso(d.started_at)).total_seconds())
        running = d.status is RunStatus.RUNNING
        width = 10 if self.app.has_class("narrow") else 20
        self.query_one("#progress-text", Static).update(progress_text(
            Progress(elapsed, self.expected), str(d.kind), d.env, running, width))
        self.query_one("#rate", Sparkline).data = rate_series(self.rate, int(elapsed) + 1,
                                                              self.RATE_WIDTH)

    @on(LogView.FollowChanged)
    def _follow_changed(self, event: LogView.FollowChanged) -> None:
        self._follow_state(event.follow)

    def _follow_state(self, follow: bool) -> None:
        text = "following (scroll up: pause)" if follow else "paused (end or G: follow)"
        text += " · w: " + ("unwrap" if self.query_one(LogView).wrap else "wrap")
        if self.env_locked is not None and self.env_locked.locked:
            text += f" · {self.env_locked.env} LOCKED by {clean(self.env_locked.locked_by)}: " \
                    f"{clean(self.env_locked.lock_reason)}"
        self.query_one("#follow-state", Static).update(text)

    def show_error(self, message: str) -> None:  # in the pane, not a toast per poll
        self.query_one("#log-header", Static).update(clean(f"error: {message}"))

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
            self.notify(f"Rollback: {why}", severity="warning")
            return
        self.action_rollback()

    def action_unlock(self) -> None:
        start_unlock(self, self.run.env)

    def action_lock(self) -> None:
        start_lock(self, self.run.env, self.env_locked)

    def action_wrap(self) -> None:
        log = self.query_one(LogView)
        log.wrap = not log.wrap
        self._follow_state(log.follow)

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
            event.prevent_default()  # not BaseScreen.on_key (called next otherwise)
            self.set_focus(self.query_one(LogView))

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
