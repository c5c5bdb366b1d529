"""`zhucun rollup`: a province publishes its ledger days, the national database subscribes,
and prints the on-post rate per province (app.rollup.service)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer


def register(cli: typer.Typer) -> None:
    rollup_cli = typer.Typer(help="The national rollup (PostgreSQL)", no_args_is_help=True)
    rollup_cli.command("publish")(publish)
    rollup_cli.command("subscribe")(subscribe)
    rollup_cli.command("on-post")(on_post)
    cli.add_typer(rollup_cli, name="rollup")


def publish(province: Annotated[str, typer.Argument(help="the province's division code")]) -> None:
    """Publish this province's ledger days (tagged with PROVINCE) for the national rollup."""
    from app.core.config import get_settings
    from app.core.db import make_engine
    from app.rollup import service

    engine = make_engine(get_settings().effective_database_url)
    try:
        with engine.begin() as connection:
            copied = service.publish(connection, province)
    except service.RollupRefused as exc:
        typer.secho(f"refused: {exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"province {province}: {copied} ledger day(s) published as {service.PUBLICATION}")


def subscribe(
    name: Annotated[str, typer.Argument(help="the subscription's name, e.g. province_43")],
    conninfo: Annotated[str, typer.Argument(help="libpq connection string of the province")],
) -> None:
    """Subscribe this national database to a province's rollup publication."""
    from app.core.config import get_settings
    from app.core.db import make_engine
    from app.rollup import service

    engine = make_engine(get_settings().effective_database_url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            service.subscribe(connection, name, conninfo)
    except service.RollupRefused as exc:
        typer.secho(f"refused: {exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"subscribed: {name}")


def on_post(
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
) -> None:
    """The on-post rate of each province on DAY, from the rollup."""
    from app.core.config import get_settings
    from app.core.db import make_engine
    from app.rollup import service

    try:
        when = date.fromisoformat(day)
    except ValueError:
        typer.secho(f"not a date: {day}", fg="red", err=True)
        raise typer.Exit(2) from None
    engine = make_engine(get_settings().effective_database_url)
    try:
        with engine.connect() as connection:
            rows = service.on_post(connection, when)
    finally:
        engine.dispose()
    for row in rows:
        typer.echo(f"{row.province}: {row.present}/{row.members} on post ({row.rate:.1%})")
