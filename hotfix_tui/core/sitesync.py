"""Deploys and locks of one environment made on two sites that had not seen each other's
(hotfix sync): both stay in the merged history, in order, flagged as a conflict. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# the events that claim an environment: a deploy (or break-glass deploy) and a lock
CLAIMS = ("deploy.started", "deploy.break_glass", "environment.locked")


def apart(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Neither site had read the other's claim when it made its own."""
    return (a["site"] != b["site"] and a["seen"].get(b["site"], 0) < b["seq"]
            and b["seen"].get(a["site"], 0) < a["seq"])


def conflicts(claims: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """By environment, each pair of claims (`deploy`, `lock`) made apart, the earlier
    first; the same answer on every site that holds the same events."""
    by_env: dict[str, list[dict[str, Any]]] = {}
    for c in claims:
        if c.get("env"):
            by_env.setdefault(c["env"], []).append(c)
    out: dict[str, list[dict[str, Any]]] = {}
    for env, items in sorted(by_env.items()):
        items.sort(key=lambda c: (c["at"], c["site"], c["seq"]))
        pairs = [{"first": _brief(a), "second": _brief(b)}
                 for i, a in enumerate(items) for b in items[i + 1:] if apart(a, b)]
        if pairs:
            out[env] = pairs
    return out


def _brief(c: dict[str, Any]) -> dict[str, Any]:
    return {"site": c["site"], "seq": c["seq"], "at": c["at"], "action": c["action"],
            "key": c["key"], "hotfix": c["hotfix"], "actor": c["actor"]}


def describe(pair: dict[str, Any]) -> str:
    a, b = pair["first"], pair["second"]
    return (f"CONFLICT: {_what(a)} on {a['site']} and {_what(b)} on {b['site']} were made "
            "apart (neither site had seen the other's)")


def _what(c: dict[str, Any]) -> str:
    verb = "lock" if c["action"] == "environment.locked" else f"deploy {c['key']}"
    return f"{verb}{' of ' + c['hotfix'] if c['hotfix'] else ''} by {c['actor']} at " \
           f"{c['at'][:16].replace('T', ' ')}"
