"""`zhucun outbox …` commands."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the `zhucun` command line."""
    outbox_cli = typer.Typer(
        rich_markup_mode=None,
        help="Notifications: the outbox and its deliveries.",
        no_args_is_help=True,
    )
    cli.add_typer(outbox_cli, name="outbox")

    @outbox_cli.command("status")
    def status(
        as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    ) -> None:
        """Deliveries per topic and target: pending, delivered, dead, refused, and the age of
        the oldest pending; then the latest dead letters with their last error."""
        from app.core.config import get_settings
        from app.core.db import make_session_factory, session_scope
        from app.core.time import utcnow
        from app.notify.status import age, dead_letters, status_lines

        engine = _migrated_engine(get_settings().effective_database_url)
        try:
            with session_scope(make_session_factory(engine)) as session:
                lines, dead = status_lines(session), dead_letters(session)
        finally:
            engine.dispose()
        now = utcnow()
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "lines": [
                            {
                                "topic": line.topic,
                                "target": line.target,
                                **line.counts,
                                "oldest_pending_age_s": None
                                if line.oldest_pending is None
                                else int((now - line.oldest_pending).total_seconds()),
                            }
                            for line in lines
                        ],
                        "dead_letters": [d.__dict__ for d in dead],
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        if not lines:
            typer.echo("the outbox is empty")
            return
        width = max(len(line.target) for line in lines)
        typer.echo(
            f"{'topic':<22} {'target':<{width}} {'pending':>7} {'delivered':>9} {'dead':>5} "
            f"{'refused':>7}  oldest pending"
        )
        for line in lines:
            c = line.counts
            typer.echo(
                f"{line.topic:<22} {line.target:<{width}} {c['pending']:>7} {c['delivered']:>9} "
                f"{c['dead']:>5} {c['refused']:>7}  {age(line.oldest_pending, now)}"
            )
        if dead:
            typer.echo("\nlatest dead letters (zhucun outbox retry --dead sends them again):")
            for d in dead:
                typer.echo(
                    f"  delivery {d.delivery_id} (event {d.event_id}, {d.topic}) to {d.target}, "
                    f"tries {d.attempts}: {d.last_error}"
                )

    @outbox_cli.command("retry")
    def retry(
        dead: Annotated[bool, typer.Option("--dead", help="dead letters too")] = False,
    ) -> None:
        """Send now what waits after a failure (and the dead letters with --dead), then
        deliver everything due; non-zero when something is left failing."""
        _deliver(retry_failed=True, retry_dead=dead)

    @outbox_cli.command("deliver")
    def deliver() -> None:
        """Deliver everything due now (what the service does within seconds); non-zero when
        something is left failing."""
        _deliver(retry_failed=False, retry_dead=False)


def _deliver(*, retry_failed: bool, retry_dead: bool) -> None:
    from app.core.config import get_settings
    from app.core.db import make_session_factory
    from app.notify.delivery import deliver_pending, enabled

    settings = get_settings()
    if not enabled(settings):
        typer.secho("no notification target is configured (ZHUCUN_WEBHOOKS)", err=True)
        raise typer.Exit(2)
    engine = _migrated_engine(settings.effective_database_url)
    try:
        summary = deliver_pending(
            make_session_factory(engine),
            settings,
            retry_failed=retry_failed,
            retry_dead=retry_dead,
        )
    finally:
        engine.dispose()
    typer.echo(summary.line())
    if not summary.ok:
        raise typer.Exit(1)


def _migrated_engine(url: str) -> Engine:
    """The database's engine; a one-line refusal when it lacks this version's migrations."""
    from app.core.db import make_engine
    from app.core.migrate import behind

    lagging = behind(url)
    if lagging is None:
        typer.secho("the database cannot be reached (DATABASE_URL)", fg="red", err=True)
        raise typer.Exit(1)
    if lagging:
        typer.secho(
            "the database lacks this version's migrations: run `zhucun db upgrade` first",
            fg="red",
            err=True,
        )
        raise typer.Exit(1)
    return make_engine(url)


class DeliveriesFailing(Exception):
    """`zhucun daily`: deliveries still failing after the retry (the summary says how many)."""


def retry_deliveries() -> str:
    """The daily retry of what failed (dead letters stay dead: `zhucun outbox retry --dead`
    revives them after the operator fixed the target); its one-line summary."""
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory
    from app.notify.delivery import deliver_pending, enabled

    settings = get_settings()
    if not enabled(settings):
        return "no notification target is configured (ZHUCUN_WEBHOOKS)"
    engine = make_engine(settings.effective_database_url)
    try:
        summary = deliver_pending(make_session_factory(engine), settings, retry_failed=True)
    finally:
        engine.dispose()
    if not summary.ok:
        raise DeliveriesFailing(summary.line())
    return summary.line()
