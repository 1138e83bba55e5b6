"""Checks on names the user gives us that git could misread.

A ref name is checked the way `git check-ref-format --branch` would, and more
strictly: nothing that starts with '-', no revision syntax (`a..b`, `@{-1}`,
`x^`, `x~2`), no spaces or control characters.
"""

from __future__ import annotations

import re

from .errors import ValidationError
from .sanitize import first_unsafe, name_of

_BAD_CHARS = set(" ~^:?*[\\")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
SHA_RE = re.compile(r"^[0-9a-f]{7,64}$")


def check_ref(name: str, what: str = "ref") -> str:
    """Return `name` if it is a safe ref name (branch, tag, or commit id); raise otherwise."""
    if name is None or name == "":
        raise ValidationError(f"{what} must not be empty")
    shown = repr(name) if not name.isprintable() or first_unsafe(name) else name
    reason = _ref_problem(name)
    if reason:
        raise ValidationError(f"invalid {what} {shown!s}: {reason}")
    return name


_NAVIGATION = re.compile(r"((?:~\d*|\^\d*)+)$")


def check_revision(text: str, what: str = "commit") -> str:
    """A ref name, optionally followed by ~N / ^N steps (`main~3`, `v1.4.1^2`).
    Ranges, reflog syntax and anything option-like are refused."""
    if text is None or text == "":
        raise ValidationError(f"{what} must not be empty")
    m = _NAVIGATION.search(text)
    base = text[: m.start()] if m else text
    if not base:
        raise ValidationError(f"invalid {what} {text}: nothing before {m.group(1)!r}")
    check_ref(base, what)
    return text


def _unsafe(name: str) -> str | None:
    bad = first_unsafe(name)
    if bad is None:
        return None
    return f"contains a control character or invisible formatting, {name_of(bad)}"


def _bad_char(name: str) -> str | None:
    bad = next((c for c in name if c in _BAD_CHARS), None)
    if bad is None:
        return None
    if bad in "~^":
        return f"contains {bad!r} where it does not belong: ~N and ^N steps go at the end (main~3)"
    return f"contains {bad!r}" if bad != " " else "contains a space"


def _bad_component(name: str) -> str | None:
    for part in name.split("/"):
        if part.startswith("."):
            return "has a component starting with '.'"
        if part.endswith(".lock"):
            return "has a component ending with '.lock'"
    return None


# Rules of `git check-ref-format`, in the order they are reported: (problem?, message).
_REF_RULES = (
    (lambda n: len(n) > 200, "too long"),
    (lambda n: n.startswith("-"), "must not start with '-'"),
    (_unsafe, None),
    # what the text is meant as comes before which character git would stumble on
    (lambda n: ".." in n, "contains '..': a range is not a commit; give the commits one by "
                          "one (git log --oneline A..B lists them)"),
    (lambda n: "@{" in n, "contains '@{': reflog syntax is not a ref name; give a commit "
                          "or a ref"),
    (_bad_char, None),
    (lambda n: n == "@", "'@' alone is not a ref name"),
    (lambda n: n.startswith("/") or n.endswith("/") or "//" in n,
     "has an empty path component"),
    (lambda n: n.endswith("."), "ends with '.'"),
    (_bad_component, None),
)


def _ref_problem(name: str) -> str | None:
    for rule, message in _REF_RULES:
        found = rule(name)
        if found:
            return message or found
    return None


def parse_version(text: str) -> tuple[int, int, int] | None:
    m = _SEMVER.match(text)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def version_from_tag(tag: str, tag_format: str) -> tuple[int, int, int] | None:
    """`v1.4.1` with format `v{version}` → (1, 4, 1)."""
    prefix, _, suffix = tag_format.partition("{version}")
    if not tag.startswith(prefix) or (suffix and not tag.endswith(suffix)):
        return None
    body = tag[len(prefix): len(tag) - len(suffix) if suffix else None]
    return parse_version(body)


def format_version(v: tuple[int, int, int]) -> str:
    return f"{v[0]}.{v[1]}.{v[2]}"


def next_patch(v: tuple[int, int, int]) -> tuple[int, int, int]:
    return (v[0], v[1], v[2] + 1)
