"""What every screen shares: loading in workers, actions that say why they are
unavailable (and are not shown at all in a read-only console), reacting to changes made
elsewhere, and the row of any table in full."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual import events, work
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from ..core.errors import HotfixError, PolicyRefusal
from ..core.models import Deploy
from ..services.context import take_notices
from . import memory
from .messages import ActionDone, DataChanged, Loaded
from .widgets.filtered import FilteredTable
from .widgets.fittable import FitTable
from .widgets.help import HelpScreen
from .widgets.rowview import RowModal

# A read that has not answered in this long is not waited for: the next reload starts one.
LOAD_STUCK = 30.0
# A screen's read waits at most this long for the change watch's first look (a busy
# database may hold that look up; the read then goes ahead)
WATCH_MARK_WAIT_S = 2.0
READONLY = "read-only console (hotfix tui --readonly)"


class BaseScreen(Screen):
    """A screen whose data comes from services in thread workers."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("q", "close", "Close", id="close"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter", show=False),
        Binding("j", "cursor('down')", "Down", show=False, id="down"),
        Binding("k", "cursor('up')", "Up", show=False, id="up"),
        Binding("i", "inspect", "Row in full", show=False, id="inspect"),
    ]

    #: actions that change something: not offered at all in read-only mode
    CHANGING: frozenset[str] = frozenset()
    #: what makes the screen read its data again when another connection commits:
    #: "changes" (any commit, log lines and heartbeats included) or "events" (an audit
    #: event: a change of state; a run flooding its log adds none)
    RELOAD_ON = "changes"
    #: reload when the screen shows again (False: a form, a list the user is marking)
    RELOAD_ON_RESUME = True

    @property
    def ctx(self):
        return self.app.ctx

    @property
    def readonly(self) -> bool:
        return self.app.readonly

    # -- loading -----------------------------------------------------------------
    def reload(self, then: Callable[[], None] | None = None) -> None:
        """Read the screen's data again; `then` runs once the new data is shown (or failed
        to load). While a read is under way, once more when it is done: a burst of
        changes costs one more query, never a queue of them."""
        if then is not None:
            self._after_load = [*getattr(self, "_after_load", []), then]
        now = time.monotonic()
        if now - getattr(self, "_load_started", -LOAD_STUCK) < LOAD_STUCK:
            self._reload_pending = True
            return
        self._load_started = now
        self._reload_pending = False
        self._seen = self._changes_seen()
        self._load()

    def _changes_seen(self) -> int:
        """How many changes (or events) the console had seen: a resumed screen reads
        again only if this moved while it was covered."""
        app = self.app
        return getattr(app, "events_seen" if self.RELOAD_ON == "events" else "changes_seen",
                       0)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self) -> None:
        marked = getattr(self.app, "watch_marked", None)
        if marked is not None:  # what this read records is news to the watch (app.py)
            marked.wait(WATCH_MARK_WAIT_S)
        try:
            data = self.fetch()
        except HotfixError as exc:
            self.post_message(Loaded("error", str(exc)))
            return
        except Exception as exc:  # shown on screen; never a traceback
            self.post_message(Loaded("error", f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(Loaded("data", data))

    def fetch(self) -> Any:
        """Runs in a thread: gather everything the screen shows."""
        return None

    def show(self, data: Any) -> None:
        """Runs on the event loop: put `data` into the widgets."""

    def show_error(self, message: str) -> None:
        self.notify(message, severity="error", title="Could not load")

    def on_loaded(self, message: Loaded) -> None:
        message.stop()
        self._load_started = -LOAD_STUCK
        again = getattr(self, "_reload_pending", False)
        if again:  # changes arrived while this was read: what waits for them waits on
            self._reload_pending = False
            self.call_later(self.reload)
        if message.what == "error":
            self.show_error(message.data)
        else:
            with self.app.batch_update():
                self.show(message.data)
            state = self.binding_state()
            if state is None or state != getattr(self, "_binding_state", None):
                self._binding_state = state
                self.refresh_bindings()  # rebuilding the footer is not free: only on change
        self._loaded_once(fresh=not again)

    def _loaded_once(self, fresh: bool = True) -> None:
        first = getattr(self, "_first_load", None)
        if first is not None:  # keys typed while the screen opened: now they may come
            first.release()
            self._first_load = None
            self._data_shown = True
            self.refresh_bindings()
            settled = getattr(self.app, "settled", None)
            if settled is not None:  # the start-up is over: the watch looks, memory settles
                self.call_after_refresh(settled)
        if not fresh:
            return  # `then`s wait for the read that follows
        pending, self._after_load = getattr(self, "_after_load", []), []
        for then in pending:
            then()

    def binding_state(self):
        """What the availability of this screen's actions depends on; the footer is
        rebuilt only when it changes. None: rebuild after every load."""
        return None

    def refresh_bindings(self) -> None:
        """Textual rebuilds the footer (recomposed, every key restyled) whenever the
        screen's bindings may have changed: on every focus change, and when a modal
        closes. Pass that on only when what the footer shows did change (its keys: a
        focus move between widgets whose own keys are hidden changes nothing there).
        Before the screen's first data there is nothing to say: which keys work depends
        on it, so the footer is built once, with the data (_loaded_once)."""
        if not getattr(self, "_data_shown", False):
            return  # (a screen's on_mount may focus a widget before its load starts)
        footers = list(self.query(Footer))
        built = bool(footers) and all(getattr(f, "_bindings_ready", False) for f in footers)
        try:  # (asks every action's availability: a screen still composing may not say)
            state = (self.app.app_focus, tuple(
                (key, b.action, b.description, enabled, tooltip)
                for key, (_, b, enabled, tooltip) in self.active_bindings.items() if b.show))
        except Exception:
            state = None
        if built and state is not None and state == getattr(self, "_footer_state", None):
            return
        self._footer_state = state
        super().refresh_bindings()

    def on_data_changed(self, message: DataChanged) -> None:
        if self.RELOAD_ON == "events" and not message.changes.events:
            return  # log lines and heartbeats: nothing this screen shows
        self.reload()

    def on_mount(self) -> None:
        # Load once mounted, whether or not a ScreenResume arrives (a screen pushed while
        # another switch is pending may not get one); later resumes reload. Keys typed
        # meanwhile wait for the data: a field that is not there yet cannot take them.
        # a screen built off screen (navigation.py) is shown later: its first resume
        # looks for changes like any other
        self._resumed_before = not self.is_current
        self._first_load = self.hold(f"{type(self).__name__} opening")
        early = self.read_before()
        if early is not None and early[0] == self._changes_seen():  # nothing changed since
            self._seen, self._reload_pending = early[0], False
            self.on_loaded(Loaded("data", early[1]))  # now: the first frame shows it
            return
        self.reload()  # now: the query runs in a thread while the first frame is drawn

    def read_before(self) -> tuple[int, Any] | None:
        """Data read before the screen opened, with the count of changes seen when it was
        read (`_changes_seen`): shown at once if nothing changed since."""
        return None

    def hold(self, why: str):
        """Keys wait until the returned hold is released (typeahead.py); released at the
        latest when this screen goes away, whatever happened to the work."""
        hold = self.app.typeahead.hold(why)
        self._holds = [h for h in getattr(self, "_holds", []) if not h.released] + [hold]
        return hold

    def on_unmount(self) -> None:
        for hold in getattr(self, "_holds", []):
            hold.release()

    def on_screen_resume(self) -> None:
        # back from a modal or another screen: read again only if something this screen
        # shows may have changed meanwhile (closing help must not cost a query)
        memory.forget_removed_widgets()  # the closed one's widgets (tui/memory.py)
        if (getattr(self, "_resumed_before", True) and self.RELOAD_ON_RESUME
                and self._changes_seen() != getattr(self, "_seen", None)):
            self.reload()
        self._resumed_before = True

    # -- actions -----------------------------------------------------------------
    def run_service(self, what: str, fn: Callable[[], Any], success: str | None = None,
                    after: Callable[[Any], None] | None = None, *, navigates: bool = False,
                    plural: str = "") -> None:
        """Run a changing service call in a worker; report the outcome as a toast, then
        `after(result)`. navigates: `after` opens or leaves a screen, so keys typed
        meanwhile wait for it (typeahead.py). plural: how several such toasts read as one
        ("{n} items ticked")."""
        hold = self.hold(what) if navigates else None
        self._run(what, fn, success, after, hold, plural)

    @work(thread=True, group="action", exit_on_error=False)
    def _run(self, what: str, fn: Callable[[], Any], success: str | None, after, hold,
             plural: str) -> None:
        def done(ok: bool, text: str, result: Any = None) -> None:
            self.post_message(ActionDone(what, ok, text, result, after, hold, plural))

        try:
            result = fn()
        except PolicyRefusal as exc:  # every reason, one per line
            done(False, "\n".join(f"• {r}" for r in exc.reasons))
            return
        except HotfixError as exc:
            done(False, str(exc))
            return
        except Exception as exc:
            done(False, f"{type(exc).__name__}: {exc}")
            return
        text = success or f"{what}: done"
        for note in take_notices():  # said once: a commit made under the OS account's name
            text += f"\nnote: {note}"
        done(True, text, result)

    def on_action_done(self, message: ActionDone) -> None:
        message.stop()
        try:
            if message.ok:
                if isinstance(message.data, Deploy):
                    self.app.command_log.append(("run", message.data.key))
                self.app.notify(message.message, title=message.what, plural=message.plural)
                if message.after is not None:
                    message.after(message.data)
            else:
                self.app.notify(message.message, severity="error",
                                title=f"{message.what} refused", timeout=10)
        finally:
            if message.hold is not None:
                message.hold.release()
        self.reload()

    # -- unavailable actions say why; read-only hides what would change anything ---------
    def why_not(self, action: str) -> str | None:
        """The reason `action` is unavailable now, or None if it is available."""
        if self.readonly and action in self.CHANGING:
            return READONLY
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.readonly and action in self.CHANGING:
            return False  # not offered: no footer key, no help row, no palette entry
        return None if self.why_not(action) else True

    def on_key(self, event: events.Key) -> None:
        bindings = self._bindings.key_to_bindings.get(event.key, [])
        if self.readonly and any(b.action in self.CHANGING for b in bindings):
            event.stop()
            self.notify(f"{bindings[0].description}: {READONLY}", severity="warning")
            return
        active = self.active_bindings.get(event.key)
        if active is None or active.enabled or active.node is not self:
            return
        reason = self.why_not(active.binding.action)
        if reason:
            event.stop()
            self.notify(f"{active.binding.description}: {reason}", severity="warning")

    # -- navigation -----------------------------------------------------------------
    def action_filter(self) -> None:
        """`/` on any screen with a filterable list."""
        tables = list(self.query(FilteredTable))
        if tables:
            self.set_focus(tables[0].filter_input)

    def action_cursor(self, direction: str) -> None:
        """j/k beside the arrows, for whichever list or view has focus."""
        widget = self.focused
        if widget is None:
            return
        for name in (f"action_cursor_{direction}", f"action_scroll_{direction}"):
            action = getattr(widget, name, None)
            if action is not None:
                action()
                return

    def action_inspect(self) -> None:
        """`i`: the selected row of the focused table, every column in full."""
        table = self.focused
        if not isinstance(table, DataTable) or table.row_count == 0:
            self.notify("select a row of a table first", severity="warning")
            return
        if isinstance(table, FitTable):  # with the columns it had no room for
            pairs = table.full_row(table.cursor_row)
        else:
            pairs = list(zip([c.label.plain for c in table.ordered_columns],
                             table.get_row_at(table.cursor_row), strict=False))
        self.app.push_screen(RowModal(pairs))

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.leave_fresh()

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.leave_fresh()
        else:
            self.app.exit()

    def leave_fresh(self) -> None:
        """Leave this screen once the screen below shows what changed meanwhile (a pick
        made here, a run that ended): never its old data for a moment. Keys typed
        meanwhile go there."""
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) > 2 else None
        if not isinstance(below, BaseScreen):
            self.app.pop_screen()
            return
        hold = self.hold("refreshing the screen below")

        def shown() -> None:
            hold.release()
            if self.app.screen is self:
                below._resumed_before = False  # just loaded: the resume need not again
                self.app.pop_screen()

        below.reload(then=shown)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self))
