"""Where the console's event loop spends its time, from a py-spy raw profile.

    py-spy record --nonblocking --threads --rate 250 --format raw -o p3.raw -- \\
        python bench/run.py --only P3 --data /tmp/hotfix-bench-data
    python bench/pyspy_summary.py p3.raw

Only the main thread (the event loop) is counted; py-spy leaves idle samples out, so
the shares are of the time the loop was busy. A sample counts towards every
category whose frames it contains.
"""

from __future__ import annotations

import sys
from collections import Counter

CATEGORIES = {
    "Footer recompose and restyle (after refresh_bindings)": "textual/widgets/_footer.py",
    "compositor render (all widgets)": "Compositor.render_update",
    "LogView (render_line, paging, scrolling)": "hotfix_tui/tui/widgets/logview.py",
    "DataTable": "textual/widgets/_data_table.py",
    "  of which measuring every row on idle (DataTable._update_dimensions)":
        "_update_dimensions",
    "the dashboard applying a load (DashboardScreen.show)": "DashboardScreen.show",
    "widgets mounted (Widget.mount)": "Widget.mount ",
    "styles applied (Stylesheet.apply)": "Stylesheet.apply",
    "screens' own code (show, header, why_not)": "hotfix_tui/tui/screens/",
    "Pilot (the benchmark's key presses)": "textual/pilot.py",
}


def summarize(path: str) -> str:
    busy = 0
    shares: Counter[str] = Counter()
    inner: Counter[str] = Counter()
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.readlines()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not count.isdigit() or "MainThread" not in stack.split(";", 1)[0]:
            continue
        n = int(count)
        busy += n
        for name, needle in CATEGORIES.items():
            if needle in stack:
                shares[name] += n
        ours = [f for f in stack.split(";") if "hotfix_tui/" in f]
        if ours:
            inner[ours[-1]] += n
    out = [f"main thread busy samples: {busy}"]
    for name, n in shares.most_common():
        out.append(f"  {100 * n / max(busy, 1):5.1f}%  {name}")
    out.append("innermost hotfix_tui frames:")
    for frame, n in inner.most_common(8):
        out.append(f"  {100 * n / max(busy, 1):5.1f}%  {frame}")
    return "\n".join(out)


if __name__ == "__main__":
    print(summarize(sys.argv[1]))
