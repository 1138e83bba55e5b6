"""Checks on the values `.hotfix.toml` gives. Pure: each returns what is wrong with a
value, in words, or '' when nothing is; config.py names the key and line."""

from __future__ import annotations

import math

from .errors import ValidationError
from .refs import check_ref
from .sanitize import first_unsafe, name_of

MAX_LIST_ITEMS = 100
MAX_TEXT = 200  # a checklist or verify item, shown on one line


def tag_format(fmt: str) -> str:
    """One {version} and nothing else a format string would read: `{sha}`, `{0}`, a lone
    `{`, or a field width (`{version:99999999}`) are refused when the file is read, not
    when `start` formats the tag."""
    rest = fmt.replace("{version}", "")
    if fmt.count("{version}") != 1 or "{" in rest or "}" in rest:
        return (f"{fmt!r} must contain {{version}} exactly once and no other braces (like "
                "v{version} or release-{version})")
    return ref(fmt.replace("{version}", "1.2.3"), f"{fmt!r} does not make a valid tag name")


def ref(name: str, message: str) -> str:
    """`message`, with git's reason, when `name` is not a ref name we accept."""
    try:
        if not name:
            raise ValidationError("empty")
        check_ref(name)
    except ValidationError as exc:
        return f"{message} ({str(exc).split(': ', 1)[-1]})"
    return ""


def remote(name: str) -> str:
    if (not name or name.startswith("-") or not name.isprintable()
            or any(c in name for c in " \\:~^?*[")):
        return f"{name!r} is not a remote name"
    return ""


def printable(value: str) -> str:
    bad = first_unsafe(value)
    if bad is not None:
        return f"contains a control character or invisible formatting, {name_of(bad)}"
    return ""


def items(values: tuple[str, ...]) -> str:
    """Lines a person reads (checklist and verify items): short, one line, printable."""
    if len(values) > MAX_LIST_ITEMS:
        return f"{len(values)} items; the limit is {MAX_LIST_ITEMS}"
    for n, item in enumerate(values, 1):
        if not item.strip():
            return f"item {n} is empty"
        if len(item) > MAX_TEXT:
            return f"item {n} is {len(item)} characters long; the limit is {MAX_TEXT}"
        if printable(item):
            return printable(item)
    return ""


def globs(patterns: tuple[str, ...]) -> str:
    if len(patterns) > MAX_LIST_ITEMS:
        return f"{len(patterns)} patterns; the limit is {MAX_LIST_ITEMS}"
    for pattern in patterns:
        if not pattern.strip():
            return "a pattern is empty"
        if printable(pattern):
            return printable(pattern)
    try:
        import pathspec

        pathspec.GitIgnoreSpec.from_lines(patterns)  # as core.scope reads them
    except Exception as exc:  # pathspec raises several kinds for a bad pattern
        return f"not a valid pattern: {exc}"
    return ""


def number(value: float, low: float, high: float, unit: str, positive: bool = False) -> str:
    """A finite number in [low, high] (in (0, high] with `positive`)."""
    if positive:
        if not math.isfinite(value) or value <= 0 or value > high:
            return f"must be positive and at most {_n(high)} ({unit})"
        return ""
    if not math.isfinite(value) or not low <= value <= high:
        return f"must be between {_n(low)} and {_n(high)} ({unit})"
    return ""


def _n(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def argv(values: tuple[str, ...]) -> str:
    """A command as an argument list: a program, arguments a process can be given."""
    if values and not values[0].strip():
        return "the program (the first element) is empty"
    if len(values) > MAX_LIST_ITEMS:
        return f"{len(values)} arguments; the limit is {MAX_LIST_ITEMS}"
    if any("\0" in arg for arg in values):
        return "an argument contains a NUL byte, which no command can be given"
    return ""
