"""The console app: screens, bindings, live refresh across engineers. Thin on purpose."""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .. import services
from ..clock import iso, utcnow
from ..store import open_store
from .messages import Activity, DataChanged
from .toasts import hook_warning, toasts_for

__all__ = ["HotfixApp", "toasts_for"]

if TYPE_CHECKING:
    from ..services import Context


class HotfixApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "hotfix"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("ctrl+p", "command_palette", "Commands", id="palette", show=False),
        Binding("at", "command_log", "Command log", key_display="@", id="command_log",
                show=False),
    ]

    def __init__(self, ctx: Context, readonly: bool = False, watch_interval: float = 0.4,
                 start_screen: Screen | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.readonly = readonly
        ctx.readonly = ctx.readonly or readonly  # browsing writes nothing, not even staleness
        self.watch_interval = watch_interval
        self._start_screen = start_screen
        self.command_log: list = []
        self.last_event_id: int | None = None
        self._hooks_since = iso(utcnow())  # hook outcomes before this console are not news
        repo = ctx.repo.toplevel.name if ctx.repo else "no repository"
        self.title = f"hotfix · {repo}"
        self.sub_title = f"{ctx.actor.label}" + ("  ·  READ-ONLY" if readonly else "")
        from .. import gitops

        gitops.OBSERVERS.append(self._record_command)

    # -- lifecycle --------------------------------------------------------------
    def on_mount(self) -> None:
        from .screens.dashboard import DashboardScreen

        self._load_keymap()
        self.push_screen(self._start_screen or DashboardScreen())
        self._watch()

    def _load_keymap(self) -> None:
        """Remap bindings by id from ~/.config/hotfix-tui/keymap.toml ([keys] approve = "A")."""
        import os
        import tomllib
        from pathlib import Path

        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        path = Path(base) / "hotfix-tui" / "keymap.toml"
        if not path.is_file():
            return
        try:
            keys = tomllib.loads(path.read_text(encoding="utf-8")).get("keys", {})
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
                raise ValueError("[keys] maps binding ids to key names (strings)")
            self.set_keymap(keys)
        except (OSError, ValueError, tomllib.TOMLDecodeError) as exc:
            self.notify(f"{path}: {exc}", severity="error", title="Keymap ignored")

    def on_unmount(self) -> None:
        from .. import gitops

        if self._record_command in gitops.OBSERVERS:
            gitops.OBSERVERS.remove(self._record_command)

    def _record_command(self, record) -> None:
        """Note a git command, if one of this console's workers ran it (the observer list
        is process-wide; another console or a test in this process is not ours)."""
        from textual.worker import NoActiveWorker, get_current_worker

        try:
            node = get_current_worker().node
        except NoActiveWorker:
            return
        while node is not None and node is not self:
            node = node._parent
        if node is self:
            self.command_log.append(("git", record))
            del self.command_log[:-500]

    # -- live refresh -------------------------------------------------------------
    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _watch(self) -> None:
        """Poll PRAGMA data_version: it changes only when another connection commits."""
        from textual.worker import get_current_worker

        worker = get_current_worker()
        store = None
        last_version = None
        while not worker.is_cancelled:
            try:
                if store is None or store.path == ":memory:":
                    if store is not None:
                        store.close()
                    store = open_store(self.ctx.db_path, create=False,
                                       readonly=self.ctx.readonly)
                    if store.path != ":memory:" and last_version is None:
                        last_version = -1
                if store.path != ":memory:":
                    version = store.data_version()
                    if version != last_version:
                        first = last_version is None
                        last_version = version
                        if not first:
                            self._post_changes(store, version)
                        elif self.last_event_id is None:
                            self.last_event_id = store.scalar(
                                "SELECT coalesce(max(id), 0) FROM audit_events") or 0
                        self._tell_hooks()
            except Exception:  # a busy or vanished database: try again next tick
                if store is not None:
                    store.close()
                store = None
            deadline = time.monotonic() + self.watch_interval
            while not worker.is_cancelled and time.monotonic() < deadline:
                time.sleep(min(0.05, self.watch_interval))
        if store is not None:
            store.close()

    def _post_changes(self, store, version: int) -> None:
        from ..store import audit

        since = self.last_event_id or 0
        new = audit.events(store, after_id=since, limit=200)
        if self.last_event_id is None:
            new = []
        if new:
            self.last_event_id = new[-1].id
        elif self.last_event_id is None:
            self.last_event_id = 0
        self.call_from_thread(self._deliver, version, new)

    def _deliver(self, version: int, events: list) -> None:
        self.screen.post_message(DataChanged(version))
        if events:
            self.post_message(Activity(events))

    def on_activity(self, message: Activity) -> None:
        for text, severity in toasts_for(message.events, self.ctx.actor.name):
            self.notify(text, severity=severity, timeout=8)

    def _tell_hooks(self) -> None:
        """(watch thread) Hand new events to their hooks, and bring back what the hooks did
        with the events this console's user caused."""
        if self.readonly:
            return
        services.deliver_hooks(self.ctx)
        done = services.hook_outcomes_since(self.ctx, self._hooks_since)
        if done:
            self._hooks_since = max(d.finished_at for d in done)
            mine = [d for d in done if d.actor == self.ctx.actor.name]
            if mine:
                self.call_from_thread(self._hook_outcomes, mine)

    def _hook_outcomes(self, deliveries: list) -> None:
        for d in deliveries:
            self.command_log.append(("hook", d))
            if d.problem:
                self.notify(hook_warning(d), severity="warning", title="Hook", timeout=10)
        del self.command_log[:-500]

    # -- commands ---------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        seen = set()
        for binding in getattr(type(screen), "BINDINGS", []):
            if not isinstance(binding, Binding) or binding.action in seen:
                continue
            seen.add(binding.action)
            why = screen.why_not(binding.action) if hasattr(screen, "why_not") else None
            help_text = f"key: {binding.key_display or binding.key}"
            if why:
                help_text += f" — unavailable: {why}"
            yield SystemCommand(binding.description or binding.action, help_text,
                                partial(self._palette_run, screen, binding.action, why,
                                        binding.description))

    def _palette_run(self, screen, action: str, why: str | None, title: str) -> None:
        if why:
            self.notify(f"{title}: {why}", severity="warning", title="Not available")
            return
        self.call_later(screen.run_action, action)

    def action_command_log(self) -> None:
        from .screens.commandlog import CommandLogScreen

        self.push_screen(CommandLogScreen())
