"""`zhucun leave …` commands."""

from __future__ import annotations

import typer


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the `zhucun` command line."""
    leave_cli = typer.Typer(rich_markup_mode=None, help="Leave (请销假).", no_args_is_help=True)
    cli.add_typer(leave_cli, name="leave")

    @leave_cli.command("scan-overdue")
    def scan_overdue() -> None:
        """Queue a `leave.overdue` outbox event for each leave overstayed (超假) since the last
        scan; run daily (`zhucun daily` runs it)."""
        typer.echo(queue_overdue())


def queue_overdue() -> str:
    """The daily scan for overstayed leave; its one-line summary."""
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.policy import get_policy
    from app.core.time import today
    from app.leave.service import record_overdue

    policy = get_policy()
    engine = make_engine(get_settings().effective_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            queued = record_overdue(session, policy, today(policy.zone))
    finally:
        engine.dispose()
    return f"{queued} overdue leave event(s) queued"
