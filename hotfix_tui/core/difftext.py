"""What each line of a unified diff is, for colouring it (the console's diff view and
`hotfix diff` on a terminal)."""

from __future__ import annotations

HEADER, HUNK, ADDED, REMOVED, CONTEXT = "h", "@", "+", "-", " "

_HEADERS = ("+++", "---", "diff --git", "index ", "new file", "deleted file", "similarity",
            "rename ", "Binary files", "old mode", "new mode")


def classify(line: str) -> str:
    if line.startswith(_HEADERS):
        return HEADER
    if line.startswith("@@"):
        return HUNK
    return line[:1] if line[:1] in (ADDED, REMOVED) else CONTEXT
