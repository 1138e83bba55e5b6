"""Approving and rejecting, from the hotfix screen or the review queue."""

from __future__ import annotations

import textwrap

from ... import services
from ..widgets.common import clean
from ..widgets.confirm import ConfirmModal, PromptModal


def approval_summary(detail) -> str:
    """Exactly what an approval will be bound to, for the confirmation."""
    hf = detail.hotfix
    lines = [f"{hf.key}  {hf.title}",
             f"incident {hf.incident} · {hf.version} · author {hf.author}",
             f"head sha  {hf.head_sha}"]
    if detail.binding is not None:
        lines.append(f"tree sha  {detail.binding.tree_sha}")
    if detail.signing:
        lines += textwrap.wrap(f"signature {detail.signing}", width=72,
                               subsequent_indent=" " * 10)
    if detail.scope:
        lines += _diffstat(detail.scope)
    lines.append("checklist:")
    lines += [_checklist_line(item) for item in hf.checklist]
    lines += _violations(detail.scope.violations if detail.scope else (),
                         hf.scope_accepted_reason)
    if hf.needs_retroactive_approval:
        lines.append("BREAK-GLASS: this approves a deploy made without approval")
    return "\n".join(clean(x) if i else x for i, x in enumerate(lines))


def _diffstat(sc) -> list[str]:
    lines = [f"diffstat  {sc.files_changed} files, +{sc.insertions} -{sc.deletions} "
             f"({sc.commits} commits)"]
    for f in sc.files[:8]:
        lines.append(f"  {f.status} {f.path}  " + ("bin" if f.binary else
                                                  f"+{f.insertions} -{f.deletions}"))
    if len(sc.files) > 8:
        lines.append(f"  … {len(sc.files) - 8} more files")
    return lines


def _checklist_line(item) -> str:
    if item.automatic:
        return f"  {'pass' if item.passed else 'FAIL'} {item.text} ({item.detail})"
    return (f"  {'[x]' if item.checked else '[ ]'} {item.text}"
            + (f" — {item.checked_by}" if item.checked else ""))


def _violations(violations, accepted: str) -> list[str]:
    if not violations:
        return ["scope violations: none"]
    lines = ["scope violations:"] + [f"  {v.rule}: {v.detail}" for v in violations]
    if accepted:
        lines.append(f"  accepted by the author: {accepted}")
    return lines


def confirm_approve(screen, detail) -> None:
    key = detail.hotfix.key
    head = detail.hotfix.head_sha
    expected = detail.binding

    def done(ok: bool) -> None:
        if ok:
            screen.run_service("approve", lambda: services.approve(
                screen.ctx, key, expected_head=head, expected=expected),
                success=f"{key} approved at {head[:10]}")

    screen.app.push_screen(ConfirmModal(f"Approve {key}?", approval_summary(detail),
                                        "Approve"), done)


def confirm_reject(screen, key: str) -> None:
    def done(comment: str | None) -> None:
        if comment:
            screen.run_service("reject", lambda: services.reject(screen.ctx, key, comment),
                               success=f"{key} rejected: back to draft")

    screen.app.push_screen(PromptModal(f"Reject {key}", "Why (the author needs to know):",
                                       "Reject"), done)
