"""`hotfix verify-record FILE`: an exported record's signatures, with no database."""

from __future__ import annotations

import click

from .common import emit, err, exit_code, json_option, out, safe


@click.command("verify-record")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--allowed-signers", "allowed", type=click.Path(dir_okay=False), default=None,
              help="The allowed_signers file to trust (default: the repository's, at each "
              "approved commit, from a clone here or at --repo).")
@click.option("--require-signed", is_flag=True,
              help="An unsigned decision fails too.")
@json_option
@click.pass_context
def verify_record_cmd(click_ctx: click.Context, file: str, allowed: str | None,
                      require_signed: bool, as_json: bool) -> None:
    """Verify the signatures of an exported record (Markdown or JSON)."""
    from ..services.verify_record import verify_record

    repo = click_ctx.find_root().ensure_object(dict).get("repo")
    report = verify_record(file, allowed, repo, require_signed)
    if as_json:
        emit(report.to_json())
    else:
        out(f"{report.hotfix}: {len(report.checks)} decision"
            f"{'s' if len(report.checks) != 1 else ''}, checked against "
            f"{safe(report.against)}")
        for c in report.checks:
            s = c.check
            if not s.signed:
                state = "unsigned"
            elif s.valid:
                state = f"valid, key {s.key_fingerprint}"
            else:
                state = f"BAD SIGNATURE: {safe(s.reason)}"
            out(f"  {c.n}. {safe(c.approver)} {safe(c.decision)} {safe(c.sha[:12])}: {state}")
    if not report.ok:
        names = ", ".join(f"{c.n}. {c.approver}" for c in report.bad)
        err(f"error: {report.hotfix}: {len(report.bad)} decision"
            f"{'s' if len(report.bad) != 1 else ''} without a valid signature ({names})")
        exit_code(1)


def register(root: click.Group) -> None:
    root.add_command(verify_record_cmd)
