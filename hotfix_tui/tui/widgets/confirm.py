"""Dialogs that state exactly what will happen.

A pure yes/no confirmation starts with focus on Cancel. A dialog that asks for input
(an environment's name, a reason, a comment, a choice) starts in its first input, so
typing goes there at once; `enter` there submits (and says what is missing, if anything
is): it never cancels. `esc`, or the Cancel button, cancels.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from ...core.sanitize import one_line, visible

T = TypeVar("T")

INPUTS = "Input, TextArea, SelectionList, Select"


class Modal(ModalScreen[T], Generic[T]):
    """A dialog: `esc` or its Cancel button dismiss it with CANCELLED; focus starts in
    the first input, else on FOCUS (Cancel); `enter` in an input calls `submit()`."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal_cancel"),
                Binding("enter", "submit", "Confirm", id="modal_submit", priority=True,
                        show=False)]
    CANCELLED: Any = None
    FOCUS = "#cancel"

    def on_mount(self) -> None:
        first = next(iter(self.query(INPUTS)), None)
        self.set_focus(first if first is not None else self.query_one(self.FOCUS))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(self.CANCELLED)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "submit":
            # enter is the field's own on a button (it presses it), in a text area (a new
            # line) and in an open list (it chooses)
            focused = self.focused
            if isinstance(focused, Button | TextArea) or focused is None:
                return False
            # an open list has the focus in its overlay, a child of the Select
            return not any(isinstance(node, Select) and node.expanded
                           for node in focused.ancestors_with_self)
        return True

    def action_submit(self) -> None:
        self.submit()

    def submit(self) -> None:
        """`enter` in an input: what the confirm button does, or why it cannot."""
        confirm = next(iter(self.query("#confirm")), None)
        if isinstance(confirm, Button):
            if confirm.disabled:
                self.problem(self.why_disabled())
            else:
                confirm.press()

    def why_disabled(self) -> str:
        return "not possible now (see above)"

    def problem(self, text: str) -> None:
        found = list(self.query("#problem"))
        if found:
            found[0].update(text)
        else:
            self.notify(text, severity="warning")


def buttons(*more: Button) -> Horizontal:
    """The row of buttons under a dialog: Cancel first, then `more`."""
    return Horizontal(Button("Cancel", id="cancel"), *more, classes="modal-buttons")


class ConfirmModal(Modal[bool]):
    """Yes or no, with the consequences spelled out."""

    CANCELLED = False

    def __init__(self, title: str, body: str, confirm: str = "Confirm",
                 danger: bool = False) -> None:
        super().__init__()
        self.title_text = one_line(title)
        self.body = visible(body)  # names, paths and subjects from git: shown, never obeyed
        self.confirm = confirm
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal" + (" danger" if self.danger else "")):
            yield Label(self.title_text, classes="modal-title", markup=False)
            with VerticalScroll(classes="modal-body"):
                yield Static(self.body, markup=False)
            yield buttons(Button(self.confirm, id="confirm",
                                 variant="error" if self.danger else "primary"))

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.dismiss(True)


class TypedConfirmModal(Modal[str | None]):
    """For rollback and break-glass: type the environment's name and give a reason.

    Dismisses with the reason, or None when cancelled.
    """

    def __init__(self, title: str, body: str, expected: str, confirm: str) -> None:
        super().__init__()
        self.title_text = one_line(title)
        self.body = visible(body)  # names, paths and subjects from git: shown, never obeyed
        self.expected = expected
        self.confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal danger"):
            yield Label(self.title_text, classes="modal-title", markup=False)
            with VerticalScroll(classes="modal-body"):
                yield Static(self.body, markup=False)
            yield Label(f"Type the environment name ({self.expected}) to confirm:",
                        markup=False)
            yield Input(placeholder=self.expected, id="typed")
            yield Label("Reason (recorded, and shown on the lock):", markup=False)
            yield Input(placeholder="why", id="reason")
            yield Static("", id="problem", classes="reasons", markup=False)
            yield buttons(Button(self.confirm, id="confirm", variant="error"))

    def submit(self) -> None:
        typed = self.query_one("#typed", Input)
        reason = self.query_one("#reason", Input)
        if typed.has_focus and typed.value.strip() == self.expected \
                and not reason.value.strip():
            self.set_focus(reason)  # enter after the name goes on to the reason
            return
        self._confirm()

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        typed = self.query_one("#typed", Input).value.strip()
        reason = self.query_one("#reason", Input).value.strip()
        if typed != self.expected:
            self.problem(f"refused: type {self.expected!r} exactly to confirm")
            self.set_focus(self.query_one("#typed", Input))
            return
        if not reason:
            self.problem("refused: a reason is required")
            self.set_focus(self.query_one("#reason", Input))
            return
        self.dismiss(reason)


class PromptModal(Modal[str | None]):
    """Ask for one piece of text (a rejection comment, an unlock or lock reason, a
    path)."""

    def __init__(self, title: str, label: str, confirm: str = "OK", body: str = "",
                 required: bool = True, value: str = "") -> None:
        super().__init__()
        self.title_text = one_line(title)
        self.label = label
        self.confirm = confirm
        self.body = visible(body)
        self.required = required
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Label(self.title_text, classes="modal-title", markup=False)
            if self.body:
                with VerticalScroll(classes="modal-body"):
                    yield Static(self.body, markup=False)
            yield Label(self.label, markup=False)
            yield Input(id="text", value=self.value)
            yield Static("", id="problem", classes="reasons", markup=False)
            yield buttons(Button(self.confirm, id="confirm", variant="primary"))

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        value = self.query_one("#text", Input).value.strip()
        if self.required and not value:
            self.problem("refused: this cannot be empty")
            self.set_focus(self.query_one("#text", Input))
            return
        self.dismiss(value)

