"""Home: open incidents with their hotfixes, and what runs in each environment."""

from __future__ import annotations

import time

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Header, Static

from ... import services
from ...clock import age
from ...core.approval import valid_approvers
from ...core.models import HotfixState, IncidentStatus
from ...services import refusals
from ...services.views import Dashboard
from ..base import BaseScreen
from ..messages import OpenHistory, OpenHotfix, OpenIncident, OpenReviewQueue, StartHotfix
from ..widgets.columns import Column
from ..widgets.common import (
    VERIFICATION_MARK,
    clean,
    mark_of,
    outcome_mark,
    plain,
    sev,
    state,
)
from ..widgets.envstrip import env_line
from ..widgets.filtered import FilteredTable
from ..widgets.footer import KeyFooter

# Keys are never cut; the title takes the rest; below ~70 columns `who`, then `info` go
# (the detail line under the table says both for the selected row).
BOARD = (Column("sev"), Column("key"), Column("state"), Column("age"),
         Column("who", drop=2, most=12), Column("info", drop=1, most=16),
         Column("title", flex=True, min=16))

# Why an incident action is refused for the selected incident: the services' own rules.
INCIDENT_ACTIONS = {
    "new_hotfix": refusals.start_hotfix,
    "mitigate": lambda inc: refusals.incident_status(inc, IncidentStatus.MITIGATED),
    "resolve": lambda inc: refusals.incident_status(inc, IncidentStatus.RESOLVED),
}


class DashboardScreen(BaseScreen):
    BINDINGS = [
        Binding("enter", "open", "Open", id="open", show=False),
        Binding("n", "new_hotfix", "New hotfix", id="new_hotfix"),
        Binding("o", "open_incident", "Open incident", id="open_incident"),
        Binding("m", "mitigate", "Mitigate", id="mitigate"),
        Binding("r", "resolve", "Resolve", id="resolve"),
        Binding("w", "review", "Review queue", id="review"),
        Binding("h", "history", "History", id="history"),
        Binding("R", "rollback", "Rollback", id="rollback"),
        Binding("u", "unlock", "Unlock", id="unlock", show=False),
        Binding("l", "lock", "Lock production", id="lock", show=False),
        Binding("slash", "filter", "Filter", key_display="/", id="filter"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("q", "close", "Quit", id="close"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="back"),
    ]
    CHANGING = frozenset({"new_hotfix", "open_incident", "mitigate", "resolve", "rollback",
                          "unlock", "lock"})
    # Everything here changes with an audit event; a run flooding its log adds none, and
    # its elapsed time is counted here between reads. Ages are read again every AGES s.
    RELOAD_ON = "events"
    AGES = 30.0

    def __init__(self) -> None:
        super().__init__()
        self.data: Dashboard | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        actor = self.ctx.actor
        if not actor.verified:
            yield Static(f"UNVERIFIED IDENTITY: acting as {clean(actor.name)} via HOTFIX_ACTOR "
                         f"(OS account {clean(actor.os_account)}); every record is marked",
                         classes="banner-unverified", id="identity-banner", markup=False)
        if self.readonly:
            yield Static("READ-ONLY: browsing only; every change is disabled",
                         classes="banner-readonly", markup=False)
        yield Vertical(id="env-strip")
        yield FilteredTable("board", "/ filter incidents and hotfixes", input_id="filter",
                            cursor="key", columns=BOARD)
        yield Static("", id="detail-line", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self._loaded_at = time.monotonic()
        self.set_interval(1.0, self._tick)
        self.set_interval(self.AGES, self.reload)
        self.set_focus(self.query_one("#board", DataTable))

    def fetch(self) -> Dashboard:
        return services.views.dashboard(self.ctx)

    def show_error(self, message: str) -> None:
        self.query_one("#detail-line", Static).update(clean(f"error: {message}"))
        super().show_error(message)

    # -- rendering ----------------------------------------------------------------------
    def show(self, data: Dashboard) -> None:
        self.data = data
        self._loaded_at = time.monotonic()
        self._render_envs(data)
        self._render_board()

    def _tick(self) -> None:
        """Running runs' elapsed time goes on between reads (no query: the lines only)."""
        if self.data is not None and any(e.running for e in self.data.environments):
            self._render_envs(self.data)

    def _render_envs(self, data: Dashboard) -> None:
        strip = self.query_one("#env-strip", Vertical)
        now = self.ctx.clock()
        room = (self.size.width or self.app.size.width) - (2 if self.readonly else 15)
        ticked = int(time.monotonic() - self._loaded_at)  # seconds since the data was read
        lines = list(strip.query(".env-line").results(Static))
        if data.environments and [getattr(s, "env_name", None) for s in lines] == [
                e.env for e in data.environments]:
            for line, env in zip(lines, data.environments, strict=True):  # same rows: the
                line.update(env_line(env, now, room, ticked))           # text only
            return
        strip.remove_children()
        if not data.environments:
            strip.mount(Static("no environments configured ([environments.*] in .hotfix.toml)",
                               classes="env-line", markup=False))
            return
        for env in data.environments:
            line = Static(env_line(env, now, room, ticked), classes="env-line")
            line.env_name = env.env
            parts = [line]
            if not self.readonly:  # a read-only console offers no change at all
                parts.append(Button("Rollback", id=f"rollback-{env.env}", variant="error",
                                    classes="env-rollback", compact=True))
            strip.mount(Horizontal(*parts, classes="env-row"))

    def on_resize(self) -> None:
        if self.data is not None:  # the strip says less below 81 columns
            self._render_envs(self.data)

    def _render_board(self) -> None:
        if self.data is not None:
            self.query_one(FilteredTable).set_rows(list(self._board_rows(self.data)))
            self._filtered()

    def _board_rows(self, data: Dashboard):
        """Each incident, then its hotfixes; a filter keeps or drops them together."""
        now = self.ctx.clock()
        required = self.ctx.config.approvals.required
        for row in data.incidents:
            inc = row.incident
            hay = " ".join([inc.key, inc.title, inc.service, inc.commander, str(inc.status)]
                           + [f"{h.key} {h.title} {h.state} {h.author}" for h in row.hotfixes])
            # (unstyled cells stay strings: the table makes Text of the rows it shows)
            yield inc.key, (sev(inc.severity), plain(inc.key, "bold"), state(inc.status),
                            age(inc.opened_at, now), clean(inc.commander),
                            clean(inc.service), plain(inc.title, "bold")), hay
            for h in row.hotfixes:
                valid = valid_approvers(h.approvals)
                title = Text("└ ")
                title.append(clean(h.title))
                if h.break_glass:
                    title.append("  BREAK-GLASS", style="bold white on red")
                info = Text(f"{len(valid)}/{required} ")
                info.append_text(outcome_mark(h.last_deploy_status))
                yield h.key, ("", clean(h.key), state(h.state), age(h.updated_at, now),
                              clean(h.author if h.author_verified else f"{h.author}?"),
                              info, title), hay

    @on(FilteredTable.Filtered)
    def _filtered(self) -> None:
        board = self.query_one(FilteredTable)
        if board.table.row_count == 0:
            self.query_one("#detail-line", Static).update(
                f"nothing matches {board.needle!r}" if board.needle else
                "no open incidents" + ("" if self.readonly else " — press o to open one"))
        self._update_detail()

    def _selected_key(self) -> str | None:
        return self.query_one(FilteredTable).current_key()

    def _selected(self):
        key = self._selected_key()
        if key is None or self.data is None:
            return None, None
        for row in self.data.incidents:
            if row.incident.key == key:
                return row.incident, None
            for h in row.hotfixes:
                if h.key == key:
                    return row.incident, h
        return None, None

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._update_detail()
        self.refresh_bindings()

    def _update_detail(self) -> None:
        inc, hf = self._selected()
        line = self.query_one("#detail-line", Static)
        if hf is not None:
            order = self.ctx.config.promotion_order
            where = " · ".join(f"{v.env} {VERIFICATION_MARK[mark_of(v)][0]}" for v in
                               sorted(hf.environments,
                                      key=lambda v: order.index(v.env) if v.env in order
                                      else len(order)))
            text = (f"{hf.key} {hf.version} · {hf.state} · "
                    + (f"{where} · " if where else "")
                    + f"base {hf.base_ref} · head {hf.head_sha[:10]} · enter: open")
            if hf.break_glass:
                text += f" · BREAK-GLASS: {clean(hf.break_glass_reason)}"
            line.update(text)
        elif inc is not None:
            line.update(f"{inc.key} {inc.sev_label} {inc.status} · {clean(inc.title)}"
                        + ("" if self.readonly else " · n: new hotfix · m: mitigate · "
                           "r: resolve"))

    # -- availability ------------------------------------------------------------------
    def why_not(self, action: str) -> str | None:
        base = super().why_not(action)
        if base:
            return base
        inc, _ = self._selected() if self.is_mounted else (None, None)
        if action in INCIDENT_ACTIONS:
            if inc is None:
                return "select an incident first"
            return "; ".join(INCIDENT_ACTIONS[action](inc)) or None
        if action == "open" and inc is None:
            return "nothing selected"
        if action in ("rollback", "unlock", "lock"):
            return self._environment_reason(action)
        return None

    def _environment_reason(self, action: str, env: str | None = None) -> str | None:
        """Rollback (of production, or `env`) and unlock (of the first locked environment),
        as the services would answer."""
        if self.data is None or not self.data.environments:
            return "no environments configured"
        if action == "unlock":
            locked = [e.env for e in self.data.environments if e.locked]
            return None if locked else "no environment is locked"
        if action == "lock":
            prod = self.ctx.config.hotfix.production_env
            return None if prod in self.ctx.config.env_names else \
                f"no environment {prod!r} configured"
        return self.data.rollback.get(env or self.ctx.config.hotfix.production_env)

    # -- actions ----------------------------------------------------------------------------

    def action_open(self) -> None:
        inc, hf = self._selected()
        if hf is not None:
            self.post_message(OpenHotfix(hf.key))
        elif inc is not None:
            self.post_message(OpenIncident(inc.key))

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_open()

    def action_new_hotfix(self) -> None:
        inc, _ = self._selected()
        self.post_message(StartHotfix(inc.key))

    def action_open_incident(self) -> None:
        from ..widgets.incident_form import OpenIncidentModal

        def opened(values) -> None:
            if values:
                self.run_service("open incident", lambda: services.open_incident(
                    self.ctx, values["title"], values["severity"], values["service"]),
                    success="incident opened")

        self.app.push_screen(OpenIncidentModal(), opened)

    def _status(self, status: IncidentStatus) -> None:
        inc, _ = self._selected()
        key = inc.key
        self.run_service(f"{status} {key}", lambda: services.set_incident_status(
            self.ctx, key, status), success=f"{key} {status}")

    def action_mitigate(self) -> None:
        self._status(IncidentStatus.MITIGATED)

    def action_resolve(self) -> None:
        from ..widgets.confirm import ConfirmModal

        inc, _ = self._selected()
        active = [h.key for row in (self.data.incidents if self.data else ())
                  if row.incident.key == inc.key for h in row.hotfixes
                  if h.state not in (HotfixState.FINISHED, HotfixState.ABANDONED)]
        body = f"Resolve {inc.key} ({clean(inc.title)})?"
        if active:
            body += f"\nStill open hotfixes: {', '.join(active)}."
        self.app.push_screen(ConfirmModal(f"Resolve {inc.key}", body, "Resolve"),
                             lambda ok: ok and self._status(IncidentStatus.RESOLVED))

    def action_review(self) -> None:
        self.post_message(OpenReviewQueue())

    def action_history(self) -> None:
        self.post_message(OpenHistory())

    def action_rollback(self, env: str | None = None) -> None:
        from ..flows.runs import start_rollback

        start_rollback(self, env or self.ctx.config.hotfix.production_env)

    @on(Button.Pressed, ".env-rollback")
    def _rollback_pressed(self, event: Button.Pressed) -> None:
        env = event.button.id.removeprefix("rollback-")
        reason = super().why_not("rollback") or self._environment_reason("rollback", env)
        if reason:
            self.notify(f"Rollback: {reason}", severity="warning")
            return
        self.action_rollback(env)

    def action_unlock(self) -> None:
        from ..flows.runs import start_unlock

        locked = [e.env for e in self.data.environments if e.locked]
        start_unlock(self, locked[0])

    def action_lock(self) -> None:
        from ..flows.runs import start_lock

        env = self.ctx.config.hotfix.production_env
        current = next((e for e in self.data.environments if e.env == env), None)
        start_lock(self, env, current)

    def action_clear_filter(self) -> None:
        board = self.query_one(FilteredTable)
        if board.filter_input.has_focus or board.needle:
            board.clear()
            self._filtered()
