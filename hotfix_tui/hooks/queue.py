"""Turning audit events into deliveries: the cursor moves over the audit trail once."""

from __future__ import annotations

import json
from datetime import timedelta

from ..clock import iso, parse_iso, utcnow
from ..config import HooksSection
from ..core import events
from ..store import audit
from ..store import hooks as deliveries
from ..store.db import Store

BATCH = 200  # audit events per transaction


def queue_new(store: Store, hooks: HooksSection, cwd: str) -> int:
    """Queue a delivery for every event after the cursor and every hook it matches, and
    move the cursor past them, in transactions of BATCH events. Returns how many were
    queued to run."""
    queued = 0
    while True:
        with store.write():
            after = deliveries.cursor(store)
            batch = audit.events(store, after_id=after, limit=BATCH)
            if not batch:
                return queued
            now = utcnow()
            # an event fetched from another bastion (hotfix sync) ran its hooks there
            fetched = {r["id"] for r in store.all(
                "SELECT id FROM audit_events WHERE id > ? AND id <= ? AND origin <> ''",
                (after, batch[-1].id))}
            for ev in batch:
                if ev.id in fetched:
                    continue
                for event in events.derive(ev):
                    queued += _queue_event(store, hooks, cwd, event, now)
            deliveries.set_cursor(store, batch[-1].id)


def _queue_event(store: Store, hooks: HooksSection, cwd: str, event: events.Event,
                 now) -> int:
    matching = hooks.for_event(event.name)
    if not matching:
        return 0
    payload = json.dumps(event.to_json(), ensure_ascii=False)
    values = event.placeholders()
    too_old = ""
    if hooks.max_age_s and now - parse_iso(event.at) > timedelta(seconds=hooks.max_age_s):
        too_old = f"not run: the event is older than [hooks] max_age_s ({hooks.max_age_s:g}s)"
    for key, argv in matching:
        deliveries.add(store, event_id=event.seq, event=event.name, hook=key,
                       argv=[arg.format_map(values) for arg in argv], cwd=cwd,
                       payload=payload, timeout_s=hooks.timeout_s, now=iso(now),
                       skipped=too_old)
    return 0 if too_old else len(matching)
