"""`zhucun import-households`: households and pairings from a CSV file, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.org.commands import EncodingOption


def import_households(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file")],
    encoding: EncodingOption = None,
) -> None:
    """Import households and their pairings (帮扶责任人) from a CSV file: UTF-8 or GB18030,
    all or nothing with line-numbered errors; importing it again changes nothing."""
    from app.audit import actions as audit_actions
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.policy import get_policy
    from app.core.time import utcnow
    from app.households.errors import ImportRefused
    from app.households.importing import import_households as run

    engine = make_engine(get_settings().effective_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            summary = run(
                session,
                get_policy(),
                file.read_bytes(),
                audit_actions.CLI,
                utcnow(),
                encoding,
                file.name,
            )
    except ImportRefused as exc:
        typer.secho(
            f"refused {len({line for line, _ in exc.problems})} line(s); nothing was imported:",
            fg=typer.colors.RED,
            err=True,
        )
        for line, reason in exc.problems:
            typer.secho(f"  line {line}: {reason}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(
        f"imported {summary.households} household(s): {summary.created} created, "
        f"{summary.updated} updated, {summary.unchanged} unchanged; pairings "
        f"{summary.pairings_started} started, {summary.pairings_ended} ended"
    )


def register(cli: typer.Typer) -> None:
    cli.command("import-households")(import_households)
