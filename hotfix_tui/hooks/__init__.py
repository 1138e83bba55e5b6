"""Hooks: a command per event, run after the event is committed, never in the way.

- queue.py turns new audit events into deliveries (one per event and matching hook);
- run.py runs one hook command: event JSON on stdin, a timeout, the first lines of
  stderr kept;
- worker.py is the detached process that does both, one at a time per database;
- kick.py is what every command (and runner) calls when it is done: it starts a worker
  when there is anything to deliver, and costs a read otherwise.

Bookkeeping lives in SQLite (store/hooks.py), so each event runs each hook at most once,
whichever process notices it first, even after a crash.
"""

from .kick import kick

__all__ = ["kick"]
