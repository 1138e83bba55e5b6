"""How long a run usually takes, and how far along a running one is. Pure.

The estimate is the median of the environment's recent successful runs of the same
kind: a deploy to production is compared with earlier deploys to production, never with
a verify or with staging. No history, no estimate: it is shown as unknown, never
guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

RECENT = 10  # successful runs the estimate looks at


def typical_seconds(durations: list[float]) -> float | None:
    """The median of the positive durations, or None when there is none."""
    usable = [d for d in durations if d > 0]
    return float(median(usable)) if usable else None


@dataclass(frozen=True)
class Progress:
    """How far a run is, against how long the same runs took before."""

    elapsed: float
    expected: float | None  # None: no history to estimate from

    @property
    def fraction(self) -> float | None:
        """How far along (0-1, capped), or None without an estimate."""
        if not self.expected:
            return None
        return min(1.0, max(0.0, self.elapsed / self.expected))

    @property
    def over(self) -> float:
        """Seconds past the usual duration (0 when within it or unknown)."""
        if not self.expected:
            return 0.0
        return max(0.0, self.elapsed - self.expected)

    @property
    def remaining(self) -> float | None:
        if not self.expected:
            return None
        return max(0.0, self.expected - self.elapsed)


def clock_text(seconds: float | None) -> str:
    """mm:ss (h:mm:ss past an hour); `?` when unknown."""
    if seconds is None:
        return "?"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"
