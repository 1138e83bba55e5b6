"""Small shared renderers: severity colours, state colours, safe text."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from ...core.sanitize import one_line

# The keys every line-API view (log, diff) scrolls with; each adds its own `end`.
SCROLL_BINDINGS = [
    Binding("up,k", "scroll_up", "Up", show=False),
    Binding("down,j", "scroll_down", "Down", show=False),
    Binding("pageup", "page_up", "Page up", show=False),
    Binding("pagedown", "page_down", "Page down", show=False),
    Binding("home", "scroll_home", "Top", show=False),
]

SEV_STYLE = {1: "bold white on red", 2: "bold dark_orange", 3: "yellow", 4: "dim"}
STATE_STYLE = {
    "draft": "cyan", "in_review": "yellow", "approved": "green", "deploying": "bold magenta",
    "deployed": "bold green", "verified": "bold green", "finished": "dim green",
    "failed": "bold red", "rolled_back": "bold red", "abandoned": "dim",
    "open": "bold red", "mitigated": "yellow", "resolved": "green",
    "running": "bold magenta", "succeeded": "green", "cancelled": "yellow",
    "timed_out": "red", "interrupted": "bold red",
}


def clean(text: str | None) -> str:
    """Stored text as one safe line: control, bidi and invisible characters made visible
    (core.sanitize)."""
    return one_line(text)


def sev(n: int) -> Text:
    return Text(f"SEV{n}", style=SEV_STYLE.get(n, ""))


def state(value: str) -> Text:
    return Text(str(value), style=STATE_STYLE.get(str(value), ""))


def plain(value: str | None, style: str = "") -> Text:
    return Text(clean(value), style=style)


def signature_mark(check) -> Text:
    """An approval's signature: `signed SHA256:…` with the key's fingerprint (shortened
    like a commit id), `unsigned`, or `BAD SIGNATURE`."""
    if not check.signed:
        return Text("unsigned", style="dim")
    if check.valid:
        return Text(f"signed {(check.key_fingerprint or '')[:19]}", style="green")
    if check.valid is None:
        return Text(f"signed {(check.key_fingerprint or '')[:19]}?", style="dim")
    return Text("BAD SIGNATURE", style="bold red")


OUTCOME_MARK = {
    "succeeded": ("ok", "green"), "failed": ("FAIL", "bold red"), "running": ("run", "magenta"),
    "cancelled": ("canc", "yellow"), "timed_out": ("t/o", "red"),
    "interrupted": ("lost", "bold red"),
}


def outcome_mark(status: str | None) -> Text:
    """The last deploy's outcome in four cells."""
    if not status:
        return Text("-", style="dim")
    word, style = OUTCOME_MARK.get(str(status), (str(status)[:4], ""))
    return Text(word, style=style)


# A hotfix's state on one environment (services.promotion.Step.state): word, style.
VERIFICATION_MARK = {
    "passed": ("verified", "bold green"), "pending": ("verify pending", "yellow"),
    "failed": ("verify FAILED", "bold red"), "rolled_back": ("rolled back", "bold red"),
    "outdated": ("earlier head", "dim"), "not_deployed": ("-", "dim"),
}


def verification_mark(value: str | None) -> Text:
    word, style = VERIFICATION_MARK.get(str(value), (str(value or "-"), ""))
    return Text(word, style=style)


def mark_of(v) -> str:
    """The VERIFICATION_MARK key of a hotfix's record on one environment."""
    return "rolled_back" if v.rolled_back_by else str(v.state)


def release_path_line(steps) -> Text:
    """`staging verified · → production -`: the hotfix on each environment in promotion
    order, the next one marked (empty before it was deployed anywhere)."""
    text = Text()
    if not any(s.verification is not None for s in steps):
        return text
    text.append("\n")
    for i, step in enumerate(steps):
        if i:
            text.append(" · ", style="dim")
        if step.next:
            text.append("→ ", style="bold")
        text.append(f"{clean(step.env)} ", style="bold")
        text.append_text(verification_mark(step.state))
    return text


def add_columns(table: DataTable, *columns: tuple[str, int | None]) -> None:
    """Columns by (label, width); the label is the column's key too. None: as wide as
    its content."""
    for label, width in columns:
        table.add_column(label, width=width, key=label or None)


def wrap_parts(parts: list[str], width: int, sep: str = " · ") -> str:
    """`parts` joined by `sep`, on as many lines of `width` as needed, each line broken
    between parts only (a part longer than a line gets a line of its own)."""
    lines: list[str] = []
    line = ""
    for part in parts:
        joined = f"{line}{sep}{part}" if line else part
        if line and cell_len(joined) > width:
            lines.append(line)
            line = part
        else:
            line = joined
    lines.append(line)
    return "\n".join(lines)
