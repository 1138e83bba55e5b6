"""When the console cannot start (no repository, no database), it says so on screen."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Header, Label, Static


class ProblemApp(App):
    CSS = """
    Vertical { align: center middle; padding: 1 2; }
    #problem { color: $error; text-style: bold; width: 100%; }
    #hint { color: $text-muted; width: 100%; padding-top: 1; }
    """
    TITLE = "hotfix"
    BINDINGS = [Binding("q,escape", "quit", "Quit", id="quit")]

    def __init__(self, problem: str, hint: str = "") -> None:
        super().__init__()
        self.problem = problem
        self.hint = hint

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Label("The console cannot open:")
            yield Static(self.problem, id="problem", markup=False)
            yield Static(self.hint, id="hint", markup=False)
        yield Footer()


HINTS = {
    "not a git repository": "Run hotfix inside a git repository, or give --repo PATH "
                            "(and --db PATH to use a database elsewhere). hotfix demo opens "
                            "the built-in demo.",
    "bare repository": "hotfix needs a working tree: clone the repository and run it there.",
    "hotfix database": "Check --db, $HOTFIX_DB and [store] path in .hotfix.toml.",
    "newer hotfix-tui": "Upgrade hotfix-tui to the version the rest of the team uses.",
}


def hint_for(message: str) -> str:
    for needle, hint in HINTS.items():
        if needle in message:
            return hint
    return "Set HOTFIX_DEBUG=1 for details."
