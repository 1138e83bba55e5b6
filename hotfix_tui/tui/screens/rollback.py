"""The rollback flow (from any screen) and unlocking an environment."""

from __future__ import annotations

from ... import services
from .deploy import _in_thread


def start_rollback(screen, env: str) -> None:
    """Confirm with exactly what happens (typing the environment's name), then roll back."""
    from ..widgets.confirm import TypedConfirmModal

    ctx = screen.ctx

    def opened(pv) -> None:
        body = (f"Roll {pv.env} back:\n"
                f"  now running   {pv.current_version} ({pv.current_sha[:12]})"
                + (f" from {pv.hotfix}" if pv.hotfix else "") + "\n"
                f"  goes back to  {pv.target_version} ({pv.target_sha[:12]}), the last "
                "known-good release\n"
                f"  command       {' '.join(pv.argv)}\n"
                f"{pv.env} stays LOCKED afterwards until someone unlocks it with a reason.")

        def done(reason: str | None) -> None:
            if reason:
                from .deploy import DeployScreen

                screen.run_service(
                    "rollback", lambda: services.rollback(
                        ctx, pv.env, reason, expected=(pv.current_sha, pv.target_sha)),
                    success=f"{pv.env}: rolling back to {pv.target_version}; locked",
                    after=lambda d: screen.app.push_screen(DeployScreen(d.key)))

        screen.app.push_screen(TypedConfirmModal(f"Rollback {pv.env}", body, pv.env,
                                                 "Roll back"), done)

    _in_thread(screen, lambda: services.rollback_preview(ctx, env), opened)


def start_unlock(screen, env: str) -> None:
    from ..widgets.confirm import PromptModal

    def done(reason: str | None) -> None:
        if reason:
            screen.run_service("unlock", lambda: services.unlock(screen.ctx, env, reason),
                               success=f"{env} unlocked")

    screen.app.push_screen(PromptModal(f"Unlock {env}",
                                       "What addressed the cause? (recorded)", "Unlock"), done)
