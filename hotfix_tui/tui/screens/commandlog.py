"""`@`: every git command and every run this console started, and every hook run for an
event its user caused, with exit code and time."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static

from ... import services
from ...clock import parse_iso
from ..base import BaseScreen
from ..widgets.columns import Column
from ..widgets.common import clean, state
from ..widgets.filtered import FilteredTable
from ..widgets.footer import KeyFooter


class CommandLogScreen(BaseScreen):
    BINDINGS = [Binding("slash", "filter", "Filter", key_display="/", id="filter")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Commands this console ran (newest first)", id="detail-line",
                     markup=False)
        yield FilteredTable("commands", "/ filter commands", columns=(
            Column("what"), Column("exit"), Column("time"),
            Column("command", flex=True, min=20)))
        yield KeyFooter()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#commands", DataTable))

    def fetch(self):
        out = []
        for kind, item in reversed(self.app.command_log):
            if kind == "git":
                out.append(("git", str(item.status), f"{item.seconds * 1000:.0f}ms",
                            " ".join(item.argv)))
            elif kind == "hook":
                code = str(item.exit_code) if item.status in ("succeeded", "failed") and \
                    item.exit_code is not None else item.status
                took = "" if item.duration_ms is None else f"{item.duration_ms / 1000:.1f}s"
                why = item.error or (item.stderr.splitlines()[0] if item.stderr else "")
                out.append(("hook", code, took, f"{item.event} #{item.seq} "
                            + " ".join(item.argv) + (f"  ({why})" if why else "")))
            else:
                try:
                    d = services.show_run(self.ctx, item)
                except Exception:
                    continue
                seconds = ""
                if d.finished_at:
                    took = parse_iso(d.finished_at) - parse_iso(d.started_at)
                    seconds = f"{took.total_seconds():.1f}s"
                code = str(d.exit_code) if d.exit_code is not None else (
                    f"sig {d.signal}" if d.signal else str(d.status))
                out.append((str(d.kind), code, seconds, f"{d.key} " + " ".join(d.argv)))
        return out

    def show(self, rows) -> None:
        self.query_one(FilteredTable).set_rows([
            (None, (kind, state(code) if not code.isdigit() else code, seconds, clean(cmd)),
             f"{kind} {code} {cmd}") for kind, code, seconds, cmd in rows])
