"""`zhucun surveys …` commands."""

from __future__ import annotations

import typer


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the `zhucun` command line."""
    surveys_cli = typer.Typer(
        rich_markup_mode=None, help="Satisfaction waves (满意度测评).", no_args_is_help=True
    )
    cli.add_typer(surveys_cli, name="surveys")

    @surveys_cli.command("purge")
    def purge() -> None:
        """Replace the device hashes of waves closed more than policy.surveys.device_days
        ago by wave-local numbers, and delete the per-address counters past their window;
        run daily."""
        typer.echo(purge_survey_devices())


def purge_survey_devices() -> str:
    """The daily purge of survey device hashes; its one-line summary."""
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.policy import get_policy
    from app.core.time import utcnow
    from app.surveys.purge import purge_devices, purge_hits

    engine = make_engine(get_settings().effective_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            now = utcnow()
            waves = purge_devices(session, get_policy(), now)
            purge_hits(session, get_policy(), now)
    finally:
        engine.dispose()
    return f"{waves} wave(s) had their device hashes replaced by wave-local numbers"
