"""Runs started from any screen: deploy (and break-glass), verify, rollback, unlock,
cancel. Each opens a confirmation that states exactly what will happen."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Label, Select, SelectionList, Static

from ... import services
from ...core.errors import HotfixError
from ...core.models import Deploy, RunStatus
from ..messages import OpenRun
from ..widgets.common import clean
from ..widgets.confirm import (
    ConfirmModal,
    Modal,
    PromptModal,
    TypedConfirmModal,
    buttons,
)
from .common import in_thread


class DeployModal(Modal[str | None]):
    """Choose the environment, listed in promotion order with where the hotfix stands on
    each, the next one preselected; see what it runs now, what it will run, and the
    command. Starts in the environment list (`space` opens it); `enter` there deploys."""

    def __init__(self, key: str, previews: dict) -> None:
        super().__init__()
        self.key = key
        self.previews = previews

    def _first(self) -> str:
        """The next environment of the release path (refused or not: the modal says what
        it still needs), else the first that takes the hotfix."""
        ps = list(self.previews.values())
        pick = next((p for p in ps if p.next), None) or \
            next((p for p in ps if not p.blockers), ps[0])
        return pick.env

    def compose(self) -> ComposeResult:
        width = max(len(n) for n in self.previews) + 2
        with Vertical(classes="modal"):
            yield Label(f"Deploy {self.key}", classes="modal-title", markup=False)
            yield Select([(Text(f"{name:<{width}}{clean(p.summary)}"), name)
                          for name, p in self.previews.items()],
                         allow_blank=False, value=self._first(), id="env")
            yield Static(self._path(), id="path")
            yield Static("", id="summary", markup=False)
            yield Static("", id="keys", classes="status-line", markup=False)
            yield buttons(Button("Deploy", id="confirm", variant="warning"))

    def _path(self) -> Text:
        """Every environment at a glance: `staging: ready to deploy → production: …`."""
        text = Text()
        for i, (name, p) in enumerate(self.previews.items()):
            if i:
                text.append(" → ", style="dim")
            text.append(f"{name}: ", style="bold")
            text.append(clean(p.summary), style="green" if not p.blockers else "dim")
        return text

    def on_mount(self) -> None:
        self._summary()
        super().on_mount()

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
        self.query_one("#keys", Static).update(
            "refused (above) · space picks another · esc cancels" if p.blockers else
            "enter deploys · space opens the list · esc cancels")

    def why_disabled(self) -> str:
        p = self.previews[self.query_one("#env", Select).value]
        return "refused: " + "; ".join(p.blockers)

    def problem(self, text: str) -> None:
        self.notify(text, severity="warning", title="Deploy")

    @on(Button.Pressed, "#confirm")
    def _go(self) -> None:
        self.dismiss(self.query_one("#env", Select).value)


def start_deploy(screen, hf, break_glass: bool = False) -> None:
    """Open the right confirmation, then start the run and show its live log."""
    ctx = screen.ctx

    def previews() -> dict:
        return {p.env: p for p in services.deploy_previews(ctx, hf.key, break_glass)}

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
                           after=lambda d: screen.post_message(OpenRun(d.key)),
                           navigates=True)

    in_thread(screen, previews, opened)


def _break_glass_modal(screen, hf, previews: dict) -> None:
    env = screen.ctx.config.hotfix.production_env
    p = previews.get(env) or next(iter(previews.values()))
    body = (f"BREAK-GLASS: deploy {hf.key} ({p.target_version}, {p.sha[:12]}) to {p.env} "
            f"WITHOUT APPROVAL.\n{p.env} runs {p.current_version or 'nothing recorded'} now.\n"
            f"command: {' '.join(p.argv)}\n"
            "This is recorded and flagged everywhere; an approval after the fact is required "
            "before the hotfix can be finished.")
    if p.bypassed:
        body += "\nIt bypasses the release path: " + "; ".join(p.bypassed)
    if p.blockers:
        body += "\nrefused now: " + "; ".join(p.blockers)

    def done(reason: str | None) -> None:
        if reason:
            screen.run_service("break-glass deploy",
                               lambda: services.deploy(screen.ctx, hf.key, p.env, reason, p.sha),
                               success=f"{hf.key}: BREAK-GLASS deploy to {p.env} started",
                               after=lambda d: screen.post_message(OpenRun(d.key)),
                               navigates=True)

    screen.app.push_screen(TypedConfirmModal(f"Break-glass deploy of {hf.key}", body, p.env,
                                             "Deploy without approval"), done)


class VerifyModal(Modal[dict | None]):
    """Tick the manual verification items and (if configured) run the check. Starts in
    the items: `space` ticks, `enter` runs the check (saves the ticks without one).
    Without items it starts on its action (running a check changes nothing deployed),
    so `enter` runs the check there too, never a silent cancel."""

    def __init__(self, key: str, env: str, items, has_check: bool) -> None:
        super().__init__()
        self.key = key
        self.env = env
        self.items = items
        self.has_check = has_check
        if not items:
            self.FOCUS = "#run" if has_check else "#save"

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Label(f"Verify {self.key} on {self.env}", classes="modal-title",
                        markup=False)
            if self.items:
                yield Label("Manual checks (space ticks; enter "
                            + ("runs the check):" if self.has_check else "saves):"),
                            markup=False)
                yield SelectionList(*[(i.text, i.n, i.checked) for i in self.items],
                                    id="items")
            yield Static("The verify command runs as its own run with a live log."
                         if self.has_check else "No verify command is configured.",
                         markup=False)
            yield buttons(Button("Save ticks", id="save"),
                          *([Button("Run check", id="run", variant="primary")]
                            if self.has_check else []))

    def _ticks(self) -> set[int]:
        if not self.items:
            return set()
        return set(self.query_one("#items", SelectionList).selected)

    def submit(self) -> None:
        if self.has_check:
            self._run()
        else:
            self._save()

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.dismiss({"ticks": self._ticks(), "run": False})

    @on(Button.Pressed, "#run")
    def _run(self) -> None:
        self.dismiss({"ticks": self._ticks(), "run": True})


def start_verify(screen, hf, hotfix_key: str | None = None, env: str | None = None) -> None:
    """Verify the hotfix on `env` (from the hotfix screen: the environment awaiting
    verification; from the deploy pane: the run's)."""
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
                screen.post_message(OpenRun(run.key))

        screen.run_service("verify", work_fn, success=f"{key}: verification updated",
                           after=after, navigates=True)

    in_thread(screen, gather, opened)


def start_rollback(screen, env: str) -> None:
    """Confirm with exactly what happens (typing the environment's name), then roll back."""
    ctx = screen.ctx

    def opened(pv) -> None:
        body = (f"Roll {pv.env} back:\n"
                f"  now running   {pv.current_version} ({pv.current_sha[:12]})"
                + (f" from {pv.hotfix}" if pv.hotfix else "") + "\n"
                f"  goes back to  {pv.target_version} ({pv.target_sha[:12]}), the last "
                "known-good release\n"
                f"  command       {' '.join(pv.argv)}\n"
                f"{pv.env} stays LOCKED afterwards until someone unlocks it with a reason.")

        def done(reason: str | None) -> None:
            if reason:
                screen.run_service(
                    "rollback", lambda: services.rollback(
                        ctx, pv.env, reason, expected=(pv.current_sha, pv.target_sha)),
                    success=f"{pv.env}: rolling back to {pv.target_version}; locked",
                    after=lambda d: screen.post_message(OpenRun(d.key)), navigates=True)

        screen.app.push_screen(TypedConfirmModal(f"Rollback {pv.env}", body, pv.env,
                                                 "Roll back"), done)

    in_thread(screen, lambda: services.rollback_preview(ctx, env), opened)


def start_unlock(screen, env: str) -> None:
    def done(reason: str | None) -> None:
        if reason:
            screen.run_service("unlock", lambda: services.unlock(screen.ctx, env, reason),
                               success=f"{env} unlocked")

    screen.app.push_screen(PromptModal(f"Unlock {env}",
                                       "What addressed the cause? (recorded)", "Unlock"), done)


def start_lock(screen, env: str, current=None) -> None:
    """Lock an environment: nothing deploys there until someone unlocks it with a reason."""
    body = (f"Nothing deploys to {env} while it is locked; rollback stays possible. "
            "Whoever unlocks it gives a reason too.")
    if current is not None and current.locked:
        body += (f"\n{env} is already locked by {clean(current.locked_by)}: "
                 f"{clean(current.lock_reason)}; locking again replaces that reason.")

    def done(reason: str | None) -> None:
        if reason:
            screen.run_service("lock", lambda: services.lock(screen.ctx, env, reason),
                               success=f"{env} locked")

    screen.app.push_screen(PromptModal(f"Lock {env}", "Why? (recorded, shown on the lock)",
                                       "Lock", body=body), done)


def confirm_cancel(screen, d: Deploy) -> None:
    """Cancel a running run, or stop what an interrupted run's command left running."""
    if d.status is RunStatus.INTERRUPTED:
        body = (f"Stop what interrupted {d.kind} {d.key} of {d.hotfix or '-'} left running on "
                f"{d.env}?\nIts runner is gone, but its command is not: the command's whole "
                f"process group gets SIGTERM, then SIGKILL after the grace period. What it "
                f"already changed on {d.env} stays changed.\nCommand: {' '.join(d.argv)}")
        success = f"{d.key}: what it left running was stopped"
    else:
        body = (f"Cancel {d.kind} {d.key} of {d.hotfix or '-'} on {d.env}?\n"
                f"Its whole process group gets SIGTERM, then SIGKILL after the grace "
                f"period. What it already changed on {d.env} stays changed.\n"
                f"Command: {' '.join(d.argv)}")
        success = f"{d.key}: cancel requested"
    screen.app.push_screen(ConfirmModal(f"Cancel {d.key}", body, "Cancel the run",
                                        danger=True),
                           lambda ok: ok and screen.run_service(
                               "cancel", lambda: services.cancel(screen.ctx, d.key),
                               success=success))
