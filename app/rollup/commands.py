"""`zhucun rollup`: a province publishes its ledger days and compliance results, the national
database subscribes, and prints the on-post rate per province (app.rollup.service)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer


def register(cli: typer.Typer) -> None:
    rollup_cli = typer.Typer(help="The national rollup (PostgreSQL)", no_args_is_help=True)
    rollup_cli.command("publish")(publish)
    rollup_cli.command("refresh")(refresh)
    rollup_cli.command("subscribe")(subscribe)
    rollup_cli.command("on-post")(on_post)
    cli.add_typer(rollup_cli, name="rollup")


def publish(province: Annotated[str, typer.Argument(help="the province's division code")]) -> None:
    """Publish this province's ledger days and compliance results (tagged with PROVINCE) for
    the national rollup."""
    from sqlalchemy.orm import Session

    from app.core.config import get_settings
    from app.core.db import make_engine
    from app.core.policy import get_policy
    from app.core.time import today
    from app.rollup import service

    policy = get_policy()
    engine = make_engine(get_settings().effective_database_url)
    try:
        with engine.begin() as connection:
            copied = service.publish(connection, province)
        # Then the first results, apart: publish's lock on the ledger is already released, so
        # check-ins are not kept waiting while a province is judged.
        with engine.begin() as connection, Session(bind=connection) as session:
            judged = service.refresh(session, policy, today(policy.zone))
    except service.RollupRefused as exc:
        typer.secho(f"refused: {exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"province {province}: {copied} ledger day(s) published as {service.PUBLICATION}")
    typer.echo(judged.summary())


def refresh(
    period: Annotated[
        str | None,
        typer.Option(help="one period (2026Q4); default: the current and the previous one"),
    ] = None,
) -> None:
    """Judge this province's members again and write its rollup compliance rows (only those
    that changed). `zhucun daily` runs it."""
    try:
        typer.echo(refresh_results(period))
    except ValueError as exc:
        typer.secho(f"refused: {exc}", fg="red", err=True)
        raise typer.Exit(1) from None


def refresh_results(period: str | None = None) -> str:
    """The daily refresh of the rollup's compliance results; its one-line summary. A database
    that publishes nothing has nothing to refresh."""
    from app.compliance.errors import InvalidPeriod
    from app.compliance.periods import period_for
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.policy import get_policy
    from app.core.time import today
    from app.rollup import service

    policy = get_policy()
    try:
        periods = None if period is None else [period_for(policy, period)]
    except InvalidPeriod:
        raise ValueError(f"not the period of a configured quota rule: {period}") from None
    engine = make_engine(get_settings().effective_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            if service.province_of(session.connection()) is None:
                return "this database publishes no province: nothing to refresh"
            return service.refresh(session, policy, today(policy.zone), periods).summary()
    except service.RollupRefused as exc:
        raise ValueError(str(exc)) from None
    finally:
        engine.dispose()


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
    """The on-post rate of each province on DAY, from the rollup (present / assigned, those on
    leave apart)."""
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
        rate = "-" if row.rate is None else f"{row.rate:.1%}"
        typer.echo(
            f"{row.province}: {row.present}/{row.assigned} on post, {row.on_leave} on leave "
            f"({rate})"
        )
