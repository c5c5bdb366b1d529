"""`zhucun auth …` commands."""

from __future__ import annotations

import typer


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the `zhucun` command line."""
    auth_cli = typer.Typer(rich_markup_mode=None, help="Sign-in (登录).", no_args_is_help=True)
    cli.add_typer(auth_cli, name="auth")

    @auth_cli.command("purge-login-log")
    def purge() -> None:
        """Delete login attempts older than policy.security.login_log_days (180); run daily
        (`zhucun daily` runs it)."""
        typer.echo(purge_login_log())


def purge_login_log() -> str:
    """The daily purge of the login log; its one-line summary."""
    from app.auth.hardening import purge_login_log as purge
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.policy import get_policy

    policy = get_policy()
    engine = make_engine(get_settings().effective_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            deleted = purge(session, policy.security)
    finally:
        engine.dispose()
    return f"{deleted} login attempt(s) older than {policy.security.login_log_days} days deleted"
