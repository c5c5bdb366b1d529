"""`zhucun supervision …` commands."""

from __future__ import annotations

import typer


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the `zhucun` command line."""
    supervision_cli = typer.Typer(
        rich_markup_mode=None, help="Supervision (严督查).", no_args_is_help=True
    )
    cli.add_typer(supervision_cli, name="supervision")

    @supervision_cli.command("scan-overdue")
    def scan_overdue() -> None:
        """Queue a `rectification.overdue` outbox event for each rectification left open past
        its due date since the last scan; run daily."""
        typer.echo(queue_overdue_rectifications())


def queue_overdue_rectifications() -> str:
    """The daily scan for overdue rectifications; its one-line summary."""
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.policy import get_policy
    from app.core.time import today
    from app.supervision.overdue import record_overdue_rectifications

    policy = get_policy()
    engine = make_engine(get_settings().effective_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            queued = record_overdue_rectifications(session, today(policy.zone))
    finally:
        engine.dispose()
    return f"{queued} overdue rectification event(s) queued"
