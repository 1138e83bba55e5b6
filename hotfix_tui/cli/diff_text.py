"""`hotfix diff` as text: every line made safe for a terminal, then coloured by kind
(click drops the colour in a pipe or with --color never)."""

from __future__ import annotations

from collections.abc import Iterator

import click

from ..core import difftext
from ..core.sanitize import visible
from .common import safe

STYLES = {
    difftext.HEADER: {"bold": True},
    difftext.HUNK: {"fg": "cyan"},
    difftext.ADDED: {"fg": "green"},
    difftext.REMOVED: {"fg": "red"},
}


def diff_lines(text: str) -> Iterator[str]:
    lines = text.split("\n")  # not splitlines(): U+2028, U+0085 … are shown, not obeyed
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        clean = visible(line, keep="\t")
        style = STYLES.get(difftext.classify(line))
        yield click.style(clean, **style) if style and clean else clean


def stat_lines(report, width: int = 40) -> Iterator[str]:
    """Like `git diff --stat`: each file, its changed lines and a bar, then the totals."""
    if not report.files:
        yield "no changes"
        return
    names = [f"{f.old_path} => {f.path}" if f.old_path else f.path for f in report.files]
    name_width = max(len(safe(n)) for n in names)
    biggest = max((f.insertions + f.deletions for f in report.files), default=0) or 1
    count_width = len(str(biggest))
    for f, name in zip(report.files, names, strict=True):
        changed = f.insertions + f.deletions
        if f.binary:
            body = "Bin"
        else:
            scale = min(1.0, width / biggest)
            plus = round(f.insertions * scale)
            minus = round(f.deletions * scale)
            body = (f"{changed:>{count_width}} "
                    + (click.style("+" * plus, fg="green") if plus else "")
                    + (click.style("-" * minus, fg="red") if minus else ""))
        yield f" {safe(name).ljust(name_width)} | {body}".rstrip()
    n = report.files_changed
    yield (f" {n} file{'s' if n != 1 else ''} changed, "
           f"{report.insertions} insertion{'s' if report.insertions != 1 else ''}(+), "
           f"{report.deletions} deletion{'s' if report.deletions != 1 else ''}(-)")
