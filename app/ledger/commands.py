"""`zhucun ledger …` commands."""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated

import typer

from app.core.config import get_settings
from app.core.db import make_engine, make_session_factory, session_scope
from app.core.policy import get_policy


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the `zhucun` command line."""
    ledger_cli = typer.Typer(help="The presence ledger.", no_args_is_help=True)
    cli.add_typer(ledger_cli, name="ledger")

    @ledger_cli.command("rebuild")
    def rebuild(
        member: Annotated[int | None, typer.Option(help="only this member id")] = None,
        from_: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
        to: Annotated[str | None, typer.Option("--to", help="last day, YYYY-MM-DD")] = None,
    ) -> None:
        """Recompute the ledger from check-ins, reviews and leave (all of it, or a part)."""
        from app.ledger.service import rebuild as run

        try:
            start = date.fromisoformat(from_) if from_ else None
            end = date.fromisoformat(to) if to else None
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        if start and end and end < start:
            raise typer.BadParameter("--to is before --from")
        engine = make_engine(get_settings().effective_database_url)
        began = time.perf_counter()
        try:
            with session_scope(make_session_factory(engine)) as session:
                result = run(session, get_policy(), member, start, end, after_chunk=session.commit)
        finally:
            engine.dispose()
        typer.echo(
            f"rebuilt {result.days} ledger day(s) of {result.members} member(s) "
            f"in {time.perf_counter() - began:.1f} s"
        )
