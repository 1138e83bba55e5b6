"""The history browser: every hotfix ever made, a page at a time, with full-text search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..core.history import HistoryQuery, parse_history_query
from ..core.models import Hotfix
from ..store import records
from .context import Context

COUNT_CAP = 10_000


@dataclass(frozen=True)
class HistoryPage:
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
                 page_size: int = 100, count: bool = True) -> HistoryPage:
    """One page, newest first; `before_id` continues after the previous page's last row."""
    q = parse_history_query(text)
    where, params = _where(q)
    with ctx.reading() as store:
        page_where = list(where)
        page_params = list(params)
        if before_id is not None:
            page_where.append("h.id < ?")
            page_params.append(before_id)
        sql = records._HOTFIX_SELECT
        if page_where:
            sql += " WHERE " + " AND ".join(page_where)
        sql += " ORDER BY h.id DESC LIMIT ?"
        rows = store.all(sql, (*page_params, page_size + 1))
        has_more = len(rows) > page_size
        items = tuple(records.hotfix_from_row(r, last_deploy_status=r["last_deploy_status"])
                      for r in rows[:page_size])
        total = -1
        if count:
            csql = "SELECT count(*) FROM (SELECT 1 FROM hotfixes h"
            if where:
                csql += " WHERE " + " AND ".join(where)
            csql += f" LIMIT {COUNT_CAP + 1})"
            total = int(store.scalar(csql, tuple(params)))
    return HistoryPage(items, total, q, has_more)
