"""What every screen shares: loading in workers, actions that say why they are
unavailable, and reacting to changes made elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import events, work
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from ..core.errors import HotfixError, PolicyRefusal
from ..core.models import Deploy
from ..services.context import take_notices
from .messages import ActionDone, DataChanged, Loaded
from .widgets.filtered import FilteredTable
from .widgets.help import HelpScreen

# Actions that only move focus to a field (`/`): run as soon as their key arrives.
FOCUS_ACTIONS = frozenset({"filter", "search"})


class BaseScreen(Screen):
    """A screen whose data comes from services in thread workers."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("q", "close", "Close", id="close"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter", show=False),
        Binding("j", "cursor('down')", "Down", show=False, id="down"),
        Binding("k", "cursor('up')", "Up", show=False, id="up"),
    ]

    #: actions that change something, refused in read-only mode
    CHANGING: frozenset[str] = frozenset()

    @property
    def ctx(self):
        return self.app.ctx

    @property
    def readonly(self) -> bool:
        return self.app.readonly

    # -- loading -----------------------------------------------------------------
    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self) -> None:
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
        if message.what == "error":
            self.show_error(message.data)
        else:
            with self.app.batch_update():
                self.show(message.data)
            state = self.binding_state()
            if state is None or state != getattr(self, "_binding_state", None):
                self._binding_state = state
                self.refresh_bindings()  # rebuilding the footer is not free: only on change

    def binding_state(self):
        """What the availability of this screen's actions depends on; the footer is
        rebuilt only when it changes. None: rebuild after every load."""
        return None

    def on_data_changed(self, message: DataChanged) -> None:
        self.reload()

    def on_mount(self) -> None:
        # Load once mounted, whether or not a ScreenResume arrives (a screen pushed while
        # another switch is pending may not get one); later resumes reload.
        self._resumed_before = False
        self.reload()  # now: the query runs in a thread while the first frame is drawn

    def on_screen_resume(self) -> None:
        if getattr(self, "_resumed_before", True):
            self.reload()
        self._resumed_before = True

    # -- actions -----------------------------------------------------------------
    def run_service(self, what: str, fn: Callable[[], Any], success: str | None = None,
                    after: Callable[[Any], None] | None = None) -> None:
        """Run a changing service call in a worker; report the outcome as a toast."""
        self._after = after
        self._run(what, fn, success)

    @work(thread=True, group="action", exit_on_error=False)
    def _run(self, what: str, fn: Callable[[], Any], success: str | None) -> None:
        try:
            result = fn()
        except PolicyRefusal as exc:  # every reason, one per line
            self.post_message(ActionDone(what, False, "\n".join(f"• {r}" for r in exc.reasons)))
            return
        except HotfixError as exc:
            self.post_message(ActionDone(what, False, str(exc)))
            return
        except Exception as exc:
            self.post_message(ActionDone(what, False, f"{type(exc).__name__}: {exc}"))
            return
        text = success or f"{what}: done"
        for note in take_notices():  # said once: a commit made under the OS account's name
            text += f"\nnote: {note}"
        self.post_message(ActionDone(what, True, text, result))

    def on_action_done(self, message: ActionDone) -> None:
        message.stop()
        if message.ok:
            if isinstance(message.data, Deploy):
                self.app.command_log.append(("run", message.data.key))
            self.notify(message.message, title=message.what)
            after = getattr(self, "_after", None)
            self._after = None
            if after is not None:
                after(message.data)
        else:
            self.notify(message.message, severity="error", title=f"{message.what} refused",
                        timeout=10)
        self.reload()

    # -- unavailable actions say why -------------------------------------------------
    def why_not(self, action: str) -> str | None:
        """The reason `action` is unavailable now, or None if it is available."""
        if self.readonly and action in self.CHANGING:
            return "read-only console (hotfix tui --readonly)"
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if self.why_not(action) else True

    def on_key(self, event: events.Key) -> None:
        focused = self.focused
        if isinstance(focused, Input) and event.is_printable and event.character:
            # Keys that arrived in one burst with the key that focused this field were
            # routed to the widget focused before; they belong to the field.
            focused.insert_text_at_cursor(event.character)
            event.stop()
            return
        active = self.active_bindings.get(event.key)
        if (active is not None and active.enabled and active.node is self
                and active.binding.action in FOCUS_ACTIONS):
            # Move focus now, not when the binding reaches the app: the keys typed right
            # after `/` are already on their way and must land in the field.
            event.stop()
            getattr(self, f"action_{active.binding.action}")()
            return
        if active is None or active.enabled or active.node is not self:
            return
        reason = self.why_not(active.binding.action)
        if reason:
            event.stop()
            self.notify(f"{active.binding.description}: {reason}", severity="warning",
                        title="Not available")

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

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.exit()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self))
