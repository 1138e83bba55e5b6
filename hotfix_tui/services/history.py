"""The history browser: every hotfix ever made, a page at a time, with full-text search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..core.history import HistoryQuery, parse_history_query, parse_since
from ..core.models import Hotfix, HotfixState
from ..core.workflow import parse_key
from ..store import records
from .context import Context
from .reaping import reap

COUNT_CAP = 10_000


@dataclass(frozen=True)
class HistoryPage:
    """One page of hotfixes found by a history search or a list."""

    rows: tuple[Hotfix, ...]
    total: int  # capped at COUNT_CAP + 1 ("10000+")
    query: HistoryQuery
    has_more: bool


def _where(q: HistoryQuery) -> tuple[list[str], list]:
    where, params = [], []
    fts = q.fts()
    if fts:
        where.append("h.id IN (SELECT rowid FROM hotfix_search WHERE hotfix_search MATCH ?)")
        params.append(fts)
    if q.state:
        where.append("h.state = ?")
        params.append(q.state)
    if q.author:
        where.append("h.author = ?")
        params.append(q.author)
    if q.incident is not None:
        where.append("h.incident_id = ?")
        params.append(q.incident)
    if q.after:
        where.append("h.created_at >= ?")
        params.append(q.after)
    if q.before:
        where.append("h.created_at < ?")
        params.append((date.fromisoformat(q.before) + timedelta(days=1)).isoformat())
    if q.env:
        where.append("EXISTS (SELECT 1 FROM deploys d WHERE d.hotfix_id = h.id AND d.env = ?)")
        params.append(q.env)
    return where, params


def history_page(ctx: Context, text: str = "", before_id: int | None = None,
                 page_size: int | None = 100, count: bool = True,
                 approvals: bool = False) -> HistoryPage:
    """One page, newest first; `before_id` continues after the previous page's last row.
    `text` is the console's search syntax (core.history)."""
    return hotfix_page(ctx, parse_history_query(text), before_id, page_size, count, approvals)


def hotfix_page(ctx: Context, q: HistoryQuery, before_id: int | None = None,
                page_size: int | None = 100, count: bool = True,
                approvals: bool = False) -> HistoryPage:
    """`history_page` for a query already parsed (`hotfix list`'s options make one).
    `page_size` None: every match. `approvals`: each row with its approvals, judged as
    everywhere (records.approvals_of: two reads for the whole page); the checklist is left
    out of pages (`show` has it)."""
    where, params = _where(q)
    with ctx.reading() as store:
        if q.fts() and len(where) == 1:
            # words alone: read the matches newest first off the index and stop after a
            # page (matching every hotfix for `h.id IN (…)` cost 10–50 ms for a common
            # word). With filters too, SQLite's plan from the filters' indexes is kept.
            sql = records.HOTFIX_SEARCH_SELECT + " WHERE hotfix_search MATCH ?"
            page_params = list(params)
            if before_id is not None:
                sql += " AND f.rowid < ?"
                page_params.append(before_id)
            sql += " ORDER BY f.rowid DESC"
        else:
            page_where = list(where)
            page_params = list(params)
            if before_id is not None:
                page_where.append("h.id < ?")
                page_params.append(before_id)
            sql = records._HOTFIX_SELECT
            if page_where:
                sql += " WHERE " + " AND ".join(page_where)
            sql += " ORDER BY h.id DESC"
        if page_size is not None:
            sql += " LIMIT ?"
            page_params.append(page_size + 1)
        rows = store.all(sql, tuple(page_params))
        has_more = page_size is not None and len(rows) > page_size
        rows = rows[:page_size] if page_size is not None else rows
        by_id = records.approvals_of(store, rows, ctx.approval_policy) if approvals else {}
        items = tuple(records.hotfix_from_row(r, by_id.get(r["id"], ()),
                                              last_deploy_status=r["last_deploy_status"])
                      for r in rows)
        total = -1
        if count:
            csql = "SELECT count(*) FROM (SELECT 1 FROM hotfixes h"
            if where:
                csql += " WHERE " + " AND ".join(where)
            csql += f" LIMIT {COUNT_CAP + 1})"
            total = int(store.scalar(csql, tuple(params)))
    return HistoryPage(items, total, q, has_more)


def list_page(ctx: Context, state: str | None = None, incident: str | None = None,
              since: str | None = None, before: str | None = None,
              limit: int | None = 100) -> HistoryPage:
    """`hotfix list`: hotfixes newest first with their approvals, a page at a time.
    `since` is a day, a UTC time or a span back from now (core.history.parse_since);
    `before` a key: the page continues below it."""
    if state is not None:
        HotfixState(state)
    q = HistoryQuery(state=state,
                     incident=parse_key(incident, "INC") if incident is not None else None,
                     after=parse_since(since, ctx.clock()) if since is not None else None)
    before_id = parse_key(before, "HF") if before is not None else None
    reap(ctx)
    if incident is not None:
        with ctx.reading() as store:
            records.incident_row(store, incident)
    return hotfix_page(ctx, q, before_id, limit, count=False, approvals=True)
