"""Audit use cases."""

from __future__ import annotations

from ..store import audit
from .context import Context


def verify_audit(ctx: Context) -> audit.VerifyResult:
    with ctx.reading() as store:
        return audit.verify(store)
