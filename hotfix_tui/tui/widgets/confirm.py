"""Confirmations that state exactly what will happen. Focus always starts on Cancel."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from ...core.sanitize import one_line, visible

T = TypeVar("T")


class Modal(ModalScreen[T], Generic[T]):
    """A dialog: `esc` or its Cancel button dismiss it with CANCELLED; focus starts on
    FOCUS (Cancel, unless the dialog asks for input first)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal_cancel")]
    CANCELLED: Any = None
    FOCUS = "#cancel"

    def on_mount(self) -> None:
        self.set_focus(self.query_one(self.FOCUS))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(self.CANCELLED)


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

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        typed = self.query_one("#typed", Input).value.strip()
        reason = self.query_one("#reason", Input).value.strip()
        problem = self.query_one("#problem", Static)
        if typed != self.expected:
            problem.update(f"refused: type {self.expected!r} exactly to confirm")
            self.set_focus(self.query_one("#typed", Input))
            return
        if not reason:
            problem.update("refused: a reason is required")
            self.set_focus(self.query_one("#reason", Input))
            return
        self.dismiss(reason)


class PromptModal(Modal[str | None]):
    """Ask for one piece of text (a rejection comment, an unlock reason)."""

    def __init__(self, title: str, label: str, confirm: str = "OK", body: str = "",
                 multiline: bool = False, required: bool = True) -> None:
        super().__init__()
        self.title_text = one_line(title)
        self.label = label
        self.confirm = confirm
        self.body = visible(body)
        self.multiline = multiline
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal"):
            yield Label(self.title_text, classes="modal-title", markup=False)
            if self.body:
                with VerticalScroll(classes="modal-body"):
                    yield Static(self.body, markup=False)
            yield Label(self.label, markup=False)
            if self.multiline:
                yield TextArea(id="text", classes="doc-area")
            else:
                yield Input(id="text")
            yield Static("", id="problem", classes="reasons", markup=False)
            yield buttons(Button(self.confirm, id="confirm", variant="primary"))

    def _value(self) -> str:
        widget = self.query_one("#text")
        return (widget.text if isinstance(widget, TextArea) else widget.value).strip()

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        value = self._value()
        if self.required and not value:
            self.query_one("#problem", Static).update("refused: this cannot be empty")
            self.set_focus(self.query_one("#text"))
            return
        self.dismiss(value)
