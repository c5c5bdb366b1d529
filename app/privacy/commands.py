"""`zhucun privacy …` commands."""

from __future__ import annotations

import typer


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the `zhucun` command line."""
    privacy_cli = typer.Typer(help="Privacy (个人信息保护): retention.", no_args_is_help=True)
    cli.add_typer(privacy_cli, name="privacy")

    @privacy_cli.command("purge")
    def purge_command() -> None:
        """Null the raw position, motion and Wi-Fi of fixes older than
        policy.privacy.raw_fix_days (the judgement, flags and hashes stay; `audit verify`
        still verifies them), and the phones of households whose pairing ended
        policy.privacy.household_phone_days ago; run daily (`zhucun daily` does)."""
        typer.echo(purge_raw_fixes())


def purge_raw_fixes() -> str:
    """The daily purge; its one-line summary."""
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.policy import get_policy
    from app.core.time import today
    from app.households.retention import purge_phones
    from app.privacy.purge import purge

    policy = get_policy()
    engine = make_engine(get_settings().effective_database_url)
    try:
        factory = make_session_factory(engine)
        fixes = purge(factory, policy).summary()
        with session_scope(factory) as session:
            phones = purge_phones(session, policy, today(policy.zone))
    finally:
        engine.dispose()
    return f"{fixes}; {phones} household phone(s) purged after their pairing ended"
