"""The lifecycles of incidents and hotfixes, and the checks on user input.

The tables below are the single source of truth for which moves are legal.
Policies (who may approve, whether a deploy may start) build on them.
"""

from __future__ import annotations

from .errors import IllegalTransition, ValidationError
from .models import HotfixState, IncidentStatus, Severity
from .sanitize import refuse

H = HotfixState

# draft → in_review → approved → deploying → deployed → verified → finished,
# with failed, rolled_back, abandoned, and in_review/approved → in_review when
# approvals go stale. Break-glass deploys start from draft or in_review. A verified
# hotfix is deployed again when its verification on the gate environment stops holding
# (an item unticked, a check that failed).
HOTFIX_TRANSITIONS: dict[HotfixState, frozenset[HotfixState]] = {
    H.DRAFT: frozenset({H.IN_REVIEW, H.DEPLOYING, H.ABANDONED}),
    H.IN_REVIEW: frozenset({H.IN_REVIEW, H.APPROVED, H.DRAFT, H.DEPLOYING, H.ABANDONED}),
    H.APPROVED: frozenset({H.IN_REVIEW, H.DRAFT, H.DEPLOYING, H.ABANDONED}),
    H.DEPLOYING: frozenset({H.DEPLOYED, H.FAILED, H.ROLLED_BACK}),
    H.DEPLOYED: frozenset({H.DEPLOYING, H.VERIFIED, H.FAILED, H.ROLLED_BACK, H.FINISHED}),
    H.VERIFIED: frozenset({H.DEPLOYING, H.DEPLOYED, H.ROLLED_BACK, H.FINISHED}),
    H.FINISHED: frozenset(),
    H.FAILED: frozenset({H.DEPLOYING, H.ROLLED_BACK, H.DRAFT, H.ABANDONED}),
    H.ROLLED_BACK: frozenset({H.DRAFT, H.ABANDONED}),
    H.ABANDONED: frozenset(),
}

INCIDENT_TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.OPEN: frozenset({IncidentStatus.MITIGATED, IncidentStatus.RESOLVED}),
    IncidentStatus.MITIGATED: frozenset({IncidentStatus.RESOLVED, IncidentStatus.OPEN}),
    IncidentStatus.RESOLVED: frozenset({IncidentStatus.OPEN}),
}

# States in which the hotfix's content (commits, documentation, checklist) may change.
EDITABLE_STATES = frozenset({H.DRAFT, H.IN_REVIEW, H.APPROVED, H.FAILED, H.ROLLED_BACK})
# States that count as "open work" on the dashboard.
ACTIVE_STATES = frozenset(set(H) - {H.FINISHED, H.ABANDONED})


def _ordered(states: frozenset) -> tuple[str, ...]:
    order = list(type(next(iter(states)))) if states else []
    return tuple(str(s) for s in order if s in states)


def allowed_hotfix_moves(current: HotfixState) -> tuple[str, ...]:
    return _ordered(HOTFIX_TRANSITIONS[current])


def check_hotfix_transition(key: str, current: HotfixState, target: HotfixState) -> HotfixState:
    """Return `target` if the move is legal, else raise IllegalTransition."""
    current = HotfixState(current)
    target = HotfixState(target)
    if target not in HOTFIX_TRANSITIONS[current]:
        raise IllegalTransition(key, str(current), str(target), allowed_hotfix_moves(current))
    return target


def check_incident_transition(
    key: str, current: IncidentStatus, target: IncidentStatus
) -> IncidentStatus:
    current = IncidentStatus(current)
    target = IncidentStatus(target)
    if target not in INCIDENT_TRANSITIONS[current]:
        raise IllegalTransition(
            key, str(current), str(target), _ordered(INCIDENT_TRANSITIONS[current])
        )
    return target


# ---- input checks -------------------------------------------------------------

TITLE_MAX = 200
TEXT_MAX = 20_000
NAME_MAX = 64


def clean_title(title: str | None, what: str = "title") -> str:
    if title is None:
        raise ValidationError(f"{what} is required")
    if "\n" in title or "\r" in title:
        raise ValidationError(f"{what} must be one line")
    refuse(title, what)
    cleaned = " ".join(title.split())
    if not cleaned:
        raise ValidationError(f"{what} must not be empty")
    if len(cleaned) > TITLE_MAX:
        raise ValidationError(
            f"{what} is {len(cleaned)} characters long; the limit is {TITLE_MAX}"
        )
    return cleaned


def clean_text(text: str | None, what: str) -> str:
    text = (text or "").replace("\r\n", "\n")
    refuse(text, what, keep="\n\t")
    text = text.strip()
    if len(text) > TEXT_MAX:
        raise ValidationError(f"{what} is {len(text)} characters long; the limit is {TEXT_MAX}")
    return text


def clean_name(name: str | None, what: str) -> str:
    """A person, service or environment name: short, one word-ish, printable."""
    name = (name or "").strip()
    if len(name) > NAME_MAX:
        raise ValidationError(f"{what} is {len(name)} characters long; the limit is {NAME_MAX}")
    refuse(name, what)
    return name


def check_severity(sev: int) -> int:
    if not isinstance(sev, int) or isinstance(sev, bool) or not (
        Severity.MIN <= sev <= Severity.MAX
    ):
        raise ValidationError(
            f"severity must be {Severity.MIN}-{Severity.MAX} (SEV1 is the worst), got {sev!r}"
        )
    return sev


def parse_key(text: str, prefix: str) -> int:
    """`INC-12` → 12. Case-insensitive prefix; a bare number is accepted too."""
    raw = (text or "").strip()
    body = raw
    if raw.upper().startswith(prefix + "-"):
        body = raw[len(prefix) + 1 :]
    if not body.isdigit() or not body.isascii() or len(body) > 12:
        raise ValidationError(f"{raw!r} is not a valid {prefix} key (expected {prefix}-<n>)")
    return int(body)
