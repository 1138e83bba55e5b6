"""The deploy pane: a live (or replayed) run log, and deploy, verify, cancel, rollback."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Header, Input, Label, Select, SelectionList, Static

from ... import services
from ...clock import parse_iso
from ...core.errors import HotfixError
from ...core.models import Deploy, RunStatus
from ..base import BaseScreen
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
        return services.views.run_lines(self.ctx, self.key, first, count)

    def on_mount(self) -> None:
        self.set_focus(self.query_one(LogView))
        self.set_interval(self.poll, self.reload)

    def fetch(self):
        run = services.show_run(self.ctx, self.key)
        status = {s.env: s for s in services.status(self.ctx, reap=not self.readonly)}
        return run, status.get(run.env)

    def show(self, data) -> None:
        run, env = data
        self.run = run
        self.env_locked = env
        log = self.query_one(LogView)
        log.set_total(run.lines)
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
        t.append(f"{d.kind} · {d.env} · {d.hotfix or '-'} · {d.version} ({d.sha[:10]}) · by "
                 f"{clean(d.started_by)}{'' if d.started_by_verified else ' (unverified)'}\n")
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
        d = self.run
        env = self.env_locked
        return (d.status if d else None, d.kind if d else None,
                bool(env and env.locked), bool(self.query_one(LogView).matches))

    def why_not(self, action: str) -> str | None:
        base = super().why_not(action)
        if base:
            return base
        d = self.run
        if d is None:
            return "loading…" if action in self.CHANGING else None
        if action == "cancel_run" and d.status is not RunStatus.RUNNING:
            return f"{d.key} is {d.status}; nothing to cancel"
        if action == "verify":
            if d.hotfix is None:
                return "this run belongs to no hotfix"
            if d.kind.value != "deploy" or d.status is not RunStatus.SUCCEEDED:
                return "verify follows a successful deploy"
        if action == "rollback" and d.status is RunStatus.RUNNING:
            return f"{d.kind} {d.key} is in progress; cancel it first (c)"
        if action == "unlock" and not (self.env_locked and self.env_locked.locked):
            return f"{d.env} is not locked"
        if action in ("next_match", "prev_match") and not self.query_one(LogView).matches:
            return "search first (/)"
        return None

    # -- actions -----------------------------------------------------------------------------
    def action_cancel_run(self) -> None:
        from ..widgets.confirm import ConfirmModal

        d = self.run
        body = (f"Cancel {d.kind} {d.key} of {d.hotfix or '-'} on {d.env}?\n"
                f"Its whole process group gets SIGTERM, then SIGKILL after the grace "
                f"period. What it already changed on {d.env} stays changed.\n"
                f"Command: {' '.join(d.argv)}")
        self.app.push_screen(ConfirmModal(f"Cancel {d.key}", body, "Cancel the run",
                                          danger=True),
                             lambda ok: ok and self.run_service(
                                 "cancel", lambda: services.cancel(self.ctx, d.key),
                                 success=f"{d.key}: cancel requested"))

    def action_verify(self) -> None:
        start_verify(self, None, hotfix_key=self.run.hotfix, env=self.run.env)

    def action_rollback(self) -> None:
        from .rollback import start_rollback

        start_rollback(self, self.run.env)

    @on(Button.Pressed, "#rollback-button")
    def _rollback_button(self) -> None:
        why = self.why_not("rollback")
        if why:
            self.notify(f"Rollback: {why}", severity="warning", title="Not available")
            return
        self.action_rollback()

    def action_unlock(self) -> None:
        from .rollback import start_unlock

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
        matches = services.views.search_log(self.ctx, self.key, term)
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


# ---- starting runs from other screens ------------------------------------------------------

class DeployModal(ModalScreen[str | None]):
    """Choose the environment; see what it runs now, what it will run, and the command."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal_cancel")]

    def __init__(self, key: str, previews: dict) -> None:
        super().__init__()
        self.key = key
        self.previews = previews

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Label(f"Deploy {self.key}", classes="modal-title", markup=False)
            yield Select([(name, name) for name in self.previews], allow_blank=False,
                         value=next(iter(self.previews)), id="env")
            yield Static("", id="summary", markup=False)
            with Horizontal(classes="modal-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Deploy", id="confirm", variant="warning")

    def on_mount(self) -> None:
        self._summary()
        self.set_focus(self.query_one("#cancel", Button))

    @on(Select.Changed)
    def _summary(self) -> None:
        env = self.query_one("#env", Select).value
        p = self.previews[env]
        lines = [f"{p.env}: runs {p.current_version or 'nothing recorded'} now → "
                 f"{p.target_version} ({p.sha[:12]})",
                 f"command: {' '.join(p.argv) if p.argv else '-'}"]
        if p.blockers:
            lines.append("refused: " + "; ".join(p.blockers))
        self.query_one("#summary", Static).update("\n".join(clean(x) for x in lines))
        self.query_one("#confirm", Button).disabled = bool(p.blockers)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#confirm")
    def _go(self) -> None:
        self.dismiss(self.query_one("#env", Select).value)


def start_deploy(screen, hf, break_glass: bool = False) -> None:
    """Open the right confirmation, then start the run and show its live log."""
    ctx = screen.ctx

    def previews() -> dict:
        out = {}
        names = list(ctx.config.env_names)
        prod = ctx.config.hotfix.production_env
        names.sort(key=lambda n: n != prod)
        for name in names:
            out[name] = services.deploy_preview(ctx, hf.key, name, break_glass)
        return out

    def opened(data) -> None:
        if not data:
            screen.notify("no environments configured", severity="warning")
            return
        if break_glass:
            _break_glass_modal(screen, hf, data)
            return
        screen.app.push_screen(DeployModal(hf.key, data),
                               lambda env: env and _go(env, None, data[env].sha))

    def _go(env: str, reason: str | None, seen: str) -> None:
        screen.run_service("deploy", lambda: services.deploy(ctx, hf.key, env, reason, seen),
                           success=f"{hf.key}: deploy to {env} started",
                           after=lambda d: screen.app.push_screen(DeployScreen(d.key)))

    _in_thread(screen, previews, opened)


def _break_glass_modal(screen, hf, previews: dict) -> None:
    from ..widgets.confirm import TypedConfirmModal

    env = screen.ctx.config.hotfix.production_env
    p = previews.get(env) or next(iter(previews.values()))
    body = (f"BREAK-GLASS: deploy {hf.key} ({p.target_version}, {p.sha[:12]}) to {p.env} "
            f"WITHOUT APPROVAL.\n{p.env} runs {p.current_version or 'nothing recorded'} now.\n"
            f"command: {' '.join(p.argv)}\n"
            "This is recorded and flagged everywhere; an approval after the fact is required "
            "before the hotfix can be finished.")
    if p.blockers:
        body += "\nrefused now: " + "; ".join(p.blockers)

    def done(reason: str | None) -> None:
        if reason:
            screen.run_service("break-glass deploy",
                               lambda: services.deploy(screen.ctx, hf.key, p.env, reason, p.sha),
                               success=f"{hf.key}: BREAK-GLASS deploy to {p.env} started",
                               after=lambda d: screen.app.push_screen(DeployScreen(d.key)))

    screen.app.push_screen(TypedConfirmModal(f"Break-glass deploy of {hf.key}", body, p.env,
                                             "Deploy without approval"), done)


class VerifyModal(ModalScreen[dict | None]):
    """Tick the manual verification items and (if configured) run the check."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal_cancel")]

    def __init__(self, key: str, env: str, items, has_check: bool) -> None:
        super().__init__()
        self.key = key
        self.env = env
        self.items = items
        self.has_check = has_check

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Label(f"Verify {self.key} on {self.env}", classes="modal-title",
                        markup=False)
            if self.items:
                yield Label("Manual checks (space ticks):")
                yield SelectionList(*[(i.text, i.n, i.checked) for i in self.items],
                                    id="items")
            yield Static("The verify command runs as its own run with a live log."
                         if self.has_check else "No verify command is configured.",
                         markup=False)
            with Horizontal(classes="modal-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save ticks", id="save")
                if self.has_check:
                    yield Button("Run check", id="run", variant="primary")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#cancel", Button))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def _ticks(self) -> set[int]:
        if not self.items:
            return set()
        return set(self.query_one("#items", SelectionList).selected)

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.dismiss({"ticks": self._ticks(), "run": False})

    @on(Button.Pressed, "#run")
    def _run(self) -> None:
        self.dismiss({"ticks": self._ticks(), "run": True})


def start_verify(screen, hf, hotfix_key: str | None = None, env: str | None = None) -> None:
    ctx = screen.ctx
    key = hotfix_key or hf.key
    env = env or ctx.config.hotfix.production_env

    def gather():
        return services.verify_items(ctx, key, env), ctx.config.env(env)

    def opened(data) -> None:
        items, env_cfg = data
        screen.app.push_screen(VerifyModal(key, env, items, bool(env_cfg.verify)),
                               lambda result: result and _apply(items, result))

    def _apply(items, result) -> None:
        def work_fn():
            for item in items:
                want = item.n in result["ticks"]
                if want != item.checked:
                    services.verify(ctx, key, env, item=item.n, uncheck=not want)
            if result["run"]:
                return services.verify(ctx, key, env)
            if not items or all(i.n in result["ticks"] for i in items):
                try:
                    return services.verify(ctx, key, env) if not ctx.config.env(env).verify \
                        else None
                except HotfixError:
                    return None
            return None

        def after(run) -> None:
            if run is not None:
                screen.app.push_screen(DeployScreen(run.key))

        screen.run_service("verify", work_fn, success=f"{key}: verification updated",
                           after=after)

    _in_thread(screen, gather, opened)


def _in_thread(screen, fn, then) -> None:
    """Run a blocking preparation in a worker, then continue on the event loop."""

    def runner() -> None:
        try:
            data = fn()
        except HotfixError as exc:
            screen.app.call_from_thread(screen.notify, str(exc), severity="error",
                                        title="Not possible")
            return
        except Exception as exc:
            screen.app.call_from_thread(screen.notify, f"{type(exc).__name__}: {exc}",
                                        severity="error")
            return
        screen.app.call_from_thread(then, data)

    screen.run_worker(runner, thread=True, group="prepare", exit_on_error=False)
