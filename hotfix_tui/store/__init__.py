"""The SQLite store, shared safely by several engineers and processes."""

from .db import Store, open_store

__all__ = ["Store", "open_store"]
