"""Which screen each navigation message opens. The only module that knows every screen,
so that screens never import one another."""

from __future__ import annotations

from textual.app import App

from . import messages as m
from .screens.commandlog import CommandLogScreen
from .screens.dashboard import DashboardScreen
from .screens.deploy import DeployScreen
from .screens.history import HistoryScreen
from .screens.hotfix import HotfixScreen
from .screens.incident import IncidentScreen
from .screens.review import ReviewScreen
from .screens.start import PickCommitsScreen, StartHotfixScreen

__all__ = ["DashboardScreen", "Navigator"]


class Navigator(App):
    """The app's half that turns navigation messages into screens."""

    def on_open_hotfix(self, message: m.OpenHotfix) -> None:
        self.push_screen(HotfixScreen(message.key, readonly=message.readonly))

    def on_hotfix_started(self, message: m.HotfixStarted) -> None:
        self.switch_screen(HotfixScreen(message.key))
        self.push_screen(PickCommitsScreen(message.key))

    def on_open_incident(self, message: m.OpenIncident) -> None:
        self.push_screen(IncidentScreen(message.key))

    def on_start_hotfix(self, message: m.StartHotfix) -> None:
        self.push_screen(StartHotfixScreen(message.incident))

    def on_pick_commits(self, message: m.PickCommits) -> None:
        self.push_screen(PickCommitsScreen(message.key))

    def on_open_run(self, message: m.OpenRun) -> None:
        self.push_screen(DeployScreen(message.key))

    def on_open_review_queue(self, message: m.OpenReviewQueue) -> None:
        self.push_screen(ReviewScreen())

    def on_open_history(self, message: m.OpenHistory) -> None:
        # one history browser per console, kept between visits: it opens at once and
        # keeps its search
        if not self.is_screen_installed("history"):
            self.install_screen(HistoryScreen(), "history")
        self.push_screen("history")

    def action_command_log(self) -> None:
        self.push_screen(CommandLogScreen())
