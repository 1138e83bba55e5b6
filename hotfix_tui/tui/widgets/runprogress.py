"""How far along a run is, as text: a bar and an estimate from the environment's recent
successful runs of the same kind (core.estimate), or "no estimate" without history;
and the output rate, as a series for a sparkline."""

from __future__ import annotations

from rich.text import Text

from ...core.estimate import Progress, clock_text

BAR_FULL, BAR_EMPTY = "█", "░"  # block shapes: readable in 16 colours and in none


def bar(fraction: float, width: int, style: str = "magenta") -> Text:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    text = Text()
    text.append(BAR_FULL * filled, style=style)
    text.append(BAR_EMPTY * (width - filled), style="dim")
    return text


def progress_text(p: Progress, kind: str, env: str, running: bool, width: int = 20
                  ) -> Text:
    """The deploy pane's line: bar, percentage, elapsed of the usual, time left."""
    usual = clock_text(p.expected)
    if not running:
        text = Text(f"took {clock_text(p.elapsed)}")
        text.append(f" · usually {usual}" if p.expected else
                    f" · no other successful {kind} to {env} to compare", style="dim")
        return text
    if p.fraction is None:
        text = Text(f"{clock_text(p.elapsed)} elapsed", style="bold")
        text.append(f" · no estimate: no successful {kind} to {env} yet", style="dim")
        return text
    if p.over:
        text = bar(1.0, width, "yellow")
        text.append(f" {clock_text(p.elapsed)} · over the usual {usual} by "
                    f"{clock_text(p.over)}", style="bold yellow")
        return text
    text = bar(p.fraction, width)
    text.append(f" {p.fraction:4.0%} · {clock_text(p.elapsed)} of usually {usual} · "
                f"about {clock_text(p.remaining)} left")
    return text


def strip_text(p: Progress, compact: bool = False) -> Text:
    """The environment strip's form (compact: below 81 columns)."""
    width = 6 if compact else 8
    if p.fraction is None:
        return Text(f"{clock_text(p.elapsed)}" + ("" if compact else " (no estimate)"))
    if p.over:
        text = bar(1.0, width, "yellow")
        text.append(f" +{clock_text(p.over)}" if compact else
                    f" {clock_text(p.elapsed)}, {clock_text(p.over)} over", style="yellow")
        return text
    text = bar(p.fraction, width)
    text.append(f" {p.fraction:.0%}" + ("" if compact else
                                        f" ~{clock_text(p.remaining)} left"))
    return text


def rate_series(counts: dict[int, int], seconds: int, width: int) -> list[float]:
    """Lines per second over the run, in at most `width` buckets (each the mean rate of
    its seconds): a short run second by second, a long one squeezed to fit."""
    seconds = max(1, seconds)
    buckets = min(width, seconds)
    out = [0.0] * buckets
    for second, n in counts.items():
        i = min(buckets - 1, second * buckets // seconds)
        out[i] += n
    per = seconds / buckets
    return [v / per for v in out]
