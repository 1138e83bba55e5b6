"""Errors the user can act on. Each carries one line of text for `error: …`."""

from __future__ import annotations


class HotfixError(Exception):
    """A refusal or failure with a one-line, user-facing explanation."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(HotfixError):
    """Bad input: a value the user gave cannot be accepted."""


class NotFound(HotfixError):
    """A key that names nothing."""


class UnknownKey(NotFound):
    """An INC-n, HF-n or D-n that the database does not hold."""

    def __init__(self, what: str, key: str) -> None:
        super().__init__(f"unknown {what} {key}")
        self.what = what
        self.key = key


class IllegalTransition(HotfixError):
    """A state change the lifecycle does not allow."""

    def __init__(self, entity: str, current: str, target: str, allowed: tuple[str, ...]) -> None:
        moves = ", ".join(allowed) if allowed else "none (final state)"
        super().__init__(
            f"{entity} is {current}; it cannot move to {target} (allowed from {current}: {moves})"
        )
        self.entity = entity
        self.current = current
        self.target = target
        self.allowed = allowed


class PolicyRefusal(HotfixError):
    """An action the rules refuse now, with every reason."""

    def __init__(self, action: str, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        super().__init__(f"{action} refused: " + "; ".join(self.reasons))


class StoreError(HotfixError):
    """The database cannot be opened or written."""


class ConfigError(HotfixError):
    """`.hotfix.toml` is malformed."""


class GitError(HotfixError):
    """A git operation failed or was refused."""
