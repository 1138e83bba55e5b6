"""The console app: screens, bindings, live refresh across engineers. Thin on purpose."""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import tomllib
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from textual import events, work
from textual.app import SystemCommand
from textual.binding import Binding
from textual.notifications import Notify
from textual.screen import Screen
from textual.worker import NoActiveWorker, get_current_worker

from .. import services
from ..clock import iso, utcnow
from ..core.errors import HotfixError
from ..core.sanitize import BEYOND_C0, one_line, visible
from ..services import Context
from ..services.changes import Changes
from . import keys, memory
from .collector import IdleCollector
from .messages import Activity, DataChanged
from .navigation import DashboardScreen, Navigator
from .toasts import (
    MAX_TOASTS,
    NARROW_TOASTS,
    coalesce,
    hook_warning,
    make_toast,
    toasts_for,
)
from .typeahead import TypeAhead
from .widgets.help import screen_bindings

__all__ = ["HotfixApp", "toasts_for"]

FORGET_EVERY_S = 10.0


class HotfixApp(Navigator):
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
        self._sync_problem = ""
        self.changes_seen = 0  # commits by other connections seen (screens compare)
        # set once the change watch has marked where news begins: what a screen's first
        # read records (a lost run found interrupted) is then news, whichever thread is
        # quicker; screens read only after it (BaseScreen._load)
        self.watch_marked = threading.Event()
        self.watch_looked = threading.Event()  # its first look is done (and delivered)
        self.events_seen = 0  # audit events among them
        self._hooks_since = iso(utcnow())  # hook outcomes before this console are not news
        repo = ctx.repo.toplevel.name if ctx.repo else "no repository"
        self.title = one_line(f"hotfix · {repo}")
        self.sub_title = one_line(ctx.actor.label) + ("  ·  READ-ONLY" if readonly else "")
        self._stop_observing = services.observe_commands(self._record_command)
        self.typeahead = TypeAhead(self)
        self.first_shown = threading.Event()  # set once the first screen shows its data
        self.collector = IdleCollector(self)  # started then
        keys.install()  # `esc` then a key, typed at once, is `esc` then the key

    # -- keys go where the screen is going (typeahead.py) --------------------------------
    async def on_event(self, event: events.Event) -> None:
        if self.typeahead.intercept(event):
            return
        await super().on_event(event)

    def on_resize(self, event: events.Resize) -> None:
        # below 81 columns every screen takes its narrow layout (app.tcss: .narrow)
        self.set_class(event.size.width < 81, "narrow")

    def run(self, *args, **kwargs):
        # Everything loaded so far (modules, the config, the app) lives as long as the
        # console: frozen out of the garbage collector's reach, no full collection walks
        # it again (one did, before the first frame: ~20 ms).
        gc.freeze()
        return super().run(*args, **kwargs)

    # -- what reaches the terminal -------------------------------------------------
    def get_driver_class(self):
        return _guarded(super().get_driver_class())

    # -- lifecycle --------------------------------------------------------------
    def on_mount(self) -> None:
        self.set_class(self.size.width < 81, "narrow")
        self._load_keymap()
        self._watch()  # first: screens read once it has marked where news begins
        self.push_screen(self._start_screen or DashboardScreen())
        # toasts, rows and dialogs come and go on every screen (tui/memory.py)
        self.set_interval(FORGET_EVERY_S, memory.forget_removed_widgets)
        sync = self.ctx.config.sync
        if sync.auto and not self.readonly:  # [sync] auto: fetch the shared history
            self.set_interval(sync.interval_s, self._fetch_history)

    def _load_keymap(self) -> None:
        """Remap bindings by id from ~/.config/hotfix-tui/keymap.toml ([keys] approve = "A")."""
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

    def settled(self) -> None:
        """A screen has shown its first data: the start-up is over. The change watch
        takes its first look, the garbage collector runs between keys from now, with the
        start-up's objects frozen out of its view (collector.py), and the history browser
        is built."""
        if not self.first_shown.is_set():
            self.first_shown.set()
            self.after_start()  # (navigation.py)

    def on_unmount(self) -> None:
        self._stop_observing()
        self.typeahead.stop()
        self.collector.stop()

    # -- toasts: one per kind of news, never a pile (toasts.coalesce) ---------------------
    def notify(self, message: str, *, title: str = "", severity="information",
               timeout: float | None = None, markup: bool = False, plural: str = "") -> None:
        """Every toast (thread-safe): error texts carry paths, git output and names, so
        they are plain text (never markup) with unsafe characters made visible
        (core.sanitize); `plural` ("{n} items ticked") says how several read as one."""
        self.post_message(Notify(make_toast(
            visible(str(message)), one_line(title), severity,
            self.NOTIFICATION_TIMEOUT if timeout is None else timeout, plural)))

    def _on_notify(self, event: Notify) -> None:
        shown = [n for n in self._notifications if not n.has_expired]
        replaced, notification = coalesce(
            shown, event.notification, NARROW_TOASTS if self.has_class("narrow") else MAX_TOASTS)
        for old in replaced:
            self._unnotify(old, refresh=False)
            for holder in self.screen.query(f"#--textual-toast-{old.identity}"):
                holder.remove()  # the rack removes the toast but would keep its holder
        event.notification = notification  # App._on_notify (next in line) shows it

    def _record_command(self, record) -> None:
        """Note a git command, if one of this console's workers ran it (another console
        or a test in this process is not ours)."""
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
        worker = get_current_worker()
        # what is in the database now is noted at once (screens read after that: what
        # their first read records is news); the first look for changes (and the hooks'
        # first hand-over) waits for the first screen's first frame with data
        try:
            for changes in services.watch_changes(self.ctx, self.watch_interval,
                                                  lambda: worker.is_cancelled,
                                                  marked=self.watch_marked.set,
                                                  ready=self.first_shown.is_set,
                                                  looked=self._first_look):
                self.call_from_thread(self._deliver, changes)
                self._tell_hooks()
        finally:
            self.watch_marked.set()

    def _first_look(self) -> None:
        """(watch thread) The first look is done: events committed before the console
        started that no one handed to their hooks yet go now, changed since or not."""
        self._tell_hooks()
        self.watch_looked.set()

    def _deliver(self, changes: Changes) -> None:
        self.changes_seen += 1
        self.events_seen += len(changes.events)
        self.screen.post_message(DataChanged(changes))
        if changes.events:
            self.post_message(Activity(changes.events))

    def on_activity(self, message: Activity) -> None:
        for text, severity in toasts_for(message.events, self.ctx.actor.name):
            self.notify(text, severity=severity, timeout=8)

    def _tell_hooks(self) -> None:
        """(watch thread) Hand new events to their hooks, and bring back what the hooks did
        with the events this console's user caused."""
        if self.readonly:
            return
        with contextlib.suppress(Exception):  # busy or vanished: the next change tries again
            self._hand_over()

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def _fetch_history(self) -> None:
        """(sync thread) Fetch and merge the shared history; what it brings in reaches the
        screens as any other change. A failure is said once, not at every tick."""
        try:
            services.sync_history(self.ctx)
            self._sync_problem = ""
        except HotfixError as exc:
            if str(exc) != self._sync_problem:
                self._sync_problem = str(exc)
                self.notify(str(exc), title="Sync", severity="warning")

    def _hand_over(self) -> None:
        services.deliver_hooks(self.ctx)
        services.sync_later(self.ctx)
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
                self.notify(hook_warning(d), severity="warning", timeout=10)
        del self.command_log[:-500]

    # -- commands ---------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in screen_bindings(screen):
            if screen.check_action(binding.action, ()) is False:
                continue  # not offered here (a read-only console's changes)
            why = screen.why_not(binding.action) if hasattr(screen, "why_not") else None
            help_text = f"key: {binding.key_display or binding.key}"
            if why:
                help_text += f" — unavailable: {why}"
            yield SystemCommand(binding.description or binding.action, help_text,
                                partial(self._palette_run, screen, binding.action, why,
                                        binding.description))

    def _palette_run(self, screen, action: str, why: str | None, title: str) -> None:
        if why:
            self.notify(f"{title}: {why}", severity="warning")
            return
        self.call_later(screen.run_action, action)


def _guarded(driver_class):
    """The driver, writing nothing a terminal would obey but Textual's own 7-bit escape
    sequences: a C1, bidi or zero-width character that reached a frame (every screen
    makes them visible first; this is the net under it) is dropped. They take no cell,
    so dropping them keeps the layout."""

    class GuardedDriver(driver_class):
        def write(self, data: str) -> None:
            if BEYOND_C0.search(data):
                data = BEYOND_C0.sub("", data)
            super().write(data)

    GuardedDriver.__name__ = f"Guarded{driver_class.__name__}"
    return GuardedDriver
