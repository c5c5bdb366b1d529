"""`zhucun audit …` commands of the checkins domain."""

from __future__ import annotations

import time

import typer

from app.core.config import get_settings
from app.core.db import make_engine, make_session_factory, session_scope


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the `zhucun` command line."""
    audit_cli = typer.Typer(help="Tamper evidence.", no_args_is_help=True)
    cli.add_typer(audit_cli, name="audit")

    @audit_cli.command("verify")
    def verify() -> None:
        """Verify every member's check-in hash chain; exit 1 naming the first broken link of
        each broken chain, 0 when all are intact."""
        from app.checkins.audit import verify_chains

        engine = make_engine(get_settings().effective_database_url)
        began = time.perf_counter()
        try:
            with session_scope(make_session_factory(engine)) as session:
                report = verify_chains(session)
        finally:
            engine.dispose()
        took = time.perf_counter() - began
        if not report.intact:
            for link in report.broken:
                typer.secho(f"BROKEN: {link}", fg=typer.colors.RED, err=True)
            typer.secho(
                f"{len(report.broken)} of {report.chains} chain(s) broken "
                f"({report.checkins} check-ins read in {took:.1f} s)",
                fg=typer.colors.RED,
                err=True,
            )
            raise typer.Exit(1)
        typer.echo(
            f"ok: {report.chains} chain(s), {report.checkins} check-in(s) verified in {took:.1f} s"
        )
