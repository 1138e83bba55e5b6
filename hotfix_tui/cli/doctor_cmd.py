"""`hotfix doctor`: the shared setup, checked from the acting account."""

from __future__ import annotations

import click

from .common import emit, exit_code, get_ctx, json_option, out, safe

MARK = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}


@click.command("doctor")
@json_option
def doctor_cmd(as_json: bool) -> None:
    """Check the shared setup from this account: one line per check, with the command
    that fixes each failure. Exit 0 only when nothing fails."""
    from ..services.doctor import doctor

    report = doctor(get_ctx())
    if as_json:
        emit(report.to_json())
    else:
        width = max(len(c.name) for c in report.checks)
        for c in report.checks:
            line = f"{MARK[c.status]}  {c.name.ljust(width)}  {safe(c.detail)}"
            if c.fix:
                line += f"\n      {''.ljust(width)}  fix: {safe(c.fix)}"
            out(line)
        fails = sum(c.status == "fail" for c in report.checks)
        out(f"{report.account}: " + ("healthy" if report.ok else f"{fails} to fix"))
    if not report.ok:
        exit_code(1)


def register(root: click.Group) -> None:
    root.add_command(doctor_cmd)
