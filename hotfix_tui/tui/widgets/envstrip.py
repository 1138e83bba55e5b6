"""One line of the dashboard's environment strip: what runs there, who shipped it, the
hotfix it runs and its verification there, the rules of the release path, the run in
progress with how far along it is, a conflict between bastions, the lock."""

from __future__ import annotations

from rich.text import Text

from ...clock import age
from ...core.estimate import Progress
from ...core.promotion import duration
from .common import clean, verification_mark
from .runprogress import strip_text


def env_line(env, now, room: int, ticked: int = 0) -> Text:
    """The line for `env`, in `room` cells: the full form if it fits, else without "who
    shipped it when", else with a shorter bar too (a lock's reason may still wrap).
    ticked: seconds since the data was read (a running run's elapsed time goes on)."""
    for who, compact in ((True, False), (False, False)):
        text = _line(env, now, who, compact, ticked)
        if text.cell_len <= room:
            return text
    return _line(env, now, False, True, ticked)


def _line(env, now, who: bool, compact: bool, ticked: int = 0) -> Text:
    text = Text()
    text.append(f"{clean(env.env):<11}", style="bold")
    text.append(f"{clean(env.version) or '-':<9}")
    if env.deployed_by and who:
        text.append(f"{clean(env.deployed_by)} {age(env.deployed_at, now)} ago  ", style="dim")
    if env.hotfix:
        text.append(f"{env.hotfix} ")
        text.append_text(verification_mark(env.verification))
        text.append("  ")
    if env.requires:
        soak = f" +{duration(env.min_soak_s)}" if env.min_soak_s else ""
        text.append(f"after {', '.join(env.requires)}{soak}  ", style="dim")
    if env.running:
        r = env.running
        text.append(f"▶ {r['kind']} {r['key']} ",
                    style="bold magenta" if r["status"] == "running" else "bold red")
        if r["status"] == "running":
            text.append_text(strip_text(Progress(r["elapsed_s"] + ticked, r.get("expected_s")),
                                        compact=compact))
        else:
            text.append(str(r["status"]), style="bold red")
        text.append("  ")
    if env.conflicts:  # deployed or locked on two bastions apart (hotfix sync)
        sites = sorted({p[w]["site"] for p in env.conflicts for w in ("first", "second")})
        text.append(f"CONFLICT: {clean(' and '.join(sites))} apart (hotfix status)  ",
                    style="bold red")
    if env.locked:
        text.append(f"LOCKED by {clean(env.locked_by)}: {clean(env.lock_reason)}",
                    style="bold red")
    return text
