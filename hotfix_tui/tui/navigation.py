"""Which screen each navigation message opens. The only module that knows every screen,
so that screens never import one another.

Each screen's module is loaded when that screen first opens: the console's first frame
needs only the dashboard, and importing every screen up front cost it ~25 ms."""

from __future__ import annotations

from textual import work
from textual.app import App

from . import messages as m
from .screens.dashboard import DashboardScreen

__all__ = ["DashboardScreen", "Navigator"]


class Navigator(App):
    """The app's half that turns navigation messages into screens."""

    def after_start(self) -> None:
        """Start-up is over (the first screen's frame with data is drawn): the cyclic
        garbage collector runs between keys (collector.py), and the history browser is
        built off screen on its first page (read in a thread), so that `h` only switches
        to it."""
        collector = getattr(self, "collector", None)
        if collector is not None:
            collector.start()
        if not self.is_screen_installed("history"):
            from .screens.history import first_page

            self._read_history_first(first_page, getattr(self, "changes_seen", 0))

    @work(thread=True, group="prefetch", exit_on_error=False)
    def _read_history_first(self, read, seen: int, tries: int = 1) -> None:
        page = read(self.ctx)
        self.call_from_thread(self._history_read, read, seen, page, tries)

    def _history_read(self, read, seen: int, page, tries: int) -> None:
        from .screens.history import HistoryScreen

        if self.is_screen_installed("history") or isinstance(self.screen, HistoryScreen):
            return  # (opened meanwhile)
        now = getattr(self, "changes_seen", 0)
        if seen != now:  # something changed while it was read: read again (at most twice)
            if tries < 3:
                self._read_history_first(read, now, tries + 1)
            return
        # Textual composes and mounts a screen on its first push; this one is mounted now,
        # off screen, with the page: the first `h` costs what every later one does
        screen = HistoryScreen(first=(seen, page))
        self.install_screen(screen, "history")
        self._load_screen_css(screen)
        self._get_screen(screen)

    def on_open_hotfix(self, message: m.OpenHotfix) -> None:
        from .screens.hotfix import HotfixScreen

        self.push_screen(HotfixScreen(message.key, readonly=message.readonly))

    def on_hotfix_started(self, message: m.HotfixStarted) -> None:
        from .screens.hotfix import HotfixScreen
        from .screens.start import PickCommitsScreen

        self.switch_screen(HotfixScreen(message.key))
        self.push_screen(PickCommitsScreen(message.key))

    def on_open_incident(self, message: m.OpenIncident) -> None:
        from .screens.incident import IncidentScreen

        self.push_screen(IncidentScreen(message.key))

    def on_start_hotfix(self, message: m.StartHotfix) -> None:
        from .screens.start import StartHotfixScreen

        self.push_screen(StartHotfixScreen(message.incident))

    def on_pick_commits(self, message: m.PickCommits) -> None:
        from .screens.start import PickCommitsScreen

        self.push_screen(PickCommitsScreen(message.key))

    def on_open_run(self, message: m.OpenRun) -> None:
        from .screens.deploy import DeployScreen

        # a run started from a run's pane (verify after a deploy, a rollback) takes its
        # place: `esc` goes back to where the first run was started, not through each log
        if isinstance(self.screen, DeployScreen):
            self.switch_screen(DeployScreen(message.key))
        else:
            self.push_screen(DeployScreen(message.key))

    def on_open_review_queue(self, message: m.OpenReviewQueue) -> None:
        from .screens.review import ReviewScreen

        self.push_screen(ReviewScreen())

    def on_open_history(self, message: m.OpenHistory) -> None:
        # one history browser per console, kept between visits: it opens at once and
        # keeps its search
        if not self.is_screen_installed("history"):
            from .screens.history import HistoryScreen

            self.install_screen(HistoryScreen(), "history")
        self.push_screen("history")

    def action_command_log(self) -> None:
        from .screens.commandlog import CommandLogScreen

        self.push_screen(CommandLogScreen())
