"""`zhucun audit verify` of the checkins domain: the check-in chains, and that they still
extend the latest (or a given) signed checkpoint."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the `zhucun audit` group (made by app.audit)."""
    from app.audit.commands import audit_cli

    audit_cli.command("verify")(verify)
    checkins_cli = typer.Typer(
        rich_markup_mode=None,
        help="Check-ins: later findings, monthly partitions",
        no_args_is_help=True,
    )
    checkins_cli.command("scan-replays")(scan_replays)
    checkins_cli.command("partitions")(partitions_ahead)
    checkins_cli.command("seal")(seal_month)
    checkins_cli.command("detach")(detach_month)
    checkins_cli.command("attach")(attach_month)
    cli.add_typer(checkins_cli, name="checkins")


def scan_replays(
    day: Annotated[
        str | None,
        typer.Option(help="the local day to scan (YYYY-MM-DD); default: yesterday"),
    ] = None,
) -> None:
    """Record replayed_track findings on the day's member-days whose fixes repeat an earlier
    day's track (the daily job, which `zhucun daily` runs; batch uploads are scanned as they
    arrive). Idempotent."""
    try:
        when = date.fromisoformat(day) if day else None
    except ValueError:
        typer.secho(f"not a date: {day}", fg="red", err=True)
        raise typer.Exit(2) from None
    typer.echo(scan_replayed_tracks(when))


def scan_replayed_tracks(day: date | None = None) -> str:
    """The replay scan of `day` (default: yesterday, local); its one-line summary."""
    from datetime import timedelta

    from app.checkins import findings, storing
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.policy import get_policy
    from app.core.time import today, utcnow

    policy = get_policy()
    when = day or today(policy.zone) - timedelta(days=1)
    engine = make_engine(get_settings().effective_database_url)
    recorded = members = 0
    try:
        factory = make_session_factory(engine)
        with session_scope(factory) as session:
            member_ids = findings.members_with_fixes(session, when)
        for member_id in member_ids:  # one transaction per member: locks held briefly
            with session_scope(factory) as session:
                recorded += storing.scan_replays(session, policy, member_id, [when], utcnow())
            members += 1
    finally:
        engine.dispose()
    return f"{when}: {members} member(s) scanned, {recorded} replayed_track finding(s)"


def verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="a checkpoint JSON (GET /audit/checkpoints/latest); default: the latest"),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="YYYY-MM (PostgreSQL): read the check-ins of this month on, the sealed months "
            "before it bridged by their seals (`zhucun checkins seal`); default: every row"
        ),
    ] = None,
) -> None:
    """Verify every member's check-in hash chain and the actions log (reviews, leave, imports,
    account changes), that each extends the signed checkpoint, and that every review and leave
    transition has its logged action; exit 1 naming what is broken, 0 when all holds."""
    from app.audit.access import verify_access
    from app.audit.actions_verify import verify_actions
    from app.checkins.audit import CheckpointClaim, purge_problems, verify_chains
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope

    claim = None
    if checkpoint is not None:
        try:
            claim = CheckpointClaim.from_json(json.loads(checkpoint.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            typer.secho(f"cannot read the checkpoint {checkpoint}: {exc}", fg="red", err=True)
            raise typer.Exit(2) from None
    from app.checkins.partitions import PartitionRefused

    first = _month_argument(since) if since else None
    engine = make_engine(get_settings().effective_database_url)
    began = time.perf_counter()
    try:
        with session_scope(make_session_factory(engine)) as session:
            try:
                report = verify_chains(session, claim, use_latest=checkpoint is None, since=first)
            except PartitionRefused as exc:
                typer.secho(f"cannot verify from {since}: {exc}", fg="red", err=True)
                raise typer.Exit(2) from None
            # The actions log, against the same checkpoint, in the same snapshot.
            actions = verify_actions(
                session, None if claim is None else claim.document, use_latest=checkpoint is None
            )
            actions.problems += purge_problems(session)
            signed = claim.document if claim is not None else _latest_document(session)
            access = verify_access(session, signed)
            actions.problems += access.problems
    finally:
        engine.dispose()
    took = time.perf_counter() - began
    against = "" if report.checkpoint_id is None else f" against checkpoint {report.checkpoint_id}"
    logged = f"{actions.entries} logged action(s)" + (
        "" if actions.covered or actions.checkpoint_id is None else " (not covered by it)"
    )
    logged += f", {access.entries} access log entr{'y' if access.entries == 1 else 'ies'}"
    purged = f" ({report.purged} purged, verified from stored hashes)" if report.purged else ""
    if not report.intact or not actions.intact:
        for link in report.broken:
            typer.secho(f"BROKEN: {link}", fg=typer.colors.RED, err=True)
        for problem in actions.problems:
            typer.secho(f"BROKEN: {problem}", fg=typer.colors.RED, err=True)
        typer.secho(
            f"{len(report.broken)} of {report.chains} chain(s) broken, "
            f"{len(actions.problems)} problem(s) in the actions and access logs{against} "
            f"({report.checkins} check-ins{purged}, {logged} read in {took:.1f} s)",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(
        f"ok: {report.chains} chain(s), {report.checkins} check-in(s){purged}, {logged} "
        f"verified{against} in {took:.1f} s"
    )


def _latest_document(session: Any) -> dict[str, Any] | None:
    from app.audit import service as audit_service

    if audit_service.latest_checkpoint_id(session) is None:
        return None
    return audit_service.latest_checkpoint(session).document


# --- monthly partitions (PostgreSQL; app.checkins.partitions) -------------------------------


def partitions_ahead() -> None:
    """Make this month's check-in partition and the next three where missing (their findings'
    too, and the access log's months), and seal the months no fix can arrive for any more
    (checked row by row; `audit verify --since` then skips them). The daily job, which
    `zhucun daily` runs. Nothing to do on SQLite."""
    typer.echo(make_partitions_ahead())


def make_partitions_ahead() -> str:
    from app.checkins import partitions
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.policy import get_policy
    from app.core.time import today, utcnow

    engine = make_engine(get_settings().effective_database_url)
    try:
        with engine.begin() as connection:
            if not partitions.is_partitioned(connection):
                return "check-ins are not partitioned here (SQLite): nothing to do"
            policy = get_policy()
            day = today(policy.zone)
            made = partitions.ensure_months(connection, day)
            attached = partitions.attached_months(connection)
            access = partitions.ensure_access_months(connection, utcnow().date())
        with session_scope(make_session_factory(engine)) as session:
            sealed = partitions.seal_past_months(session, day, policy.flags.max_age_days)
    finally:
        engine.dispose()
    shown = ", ".join(f"{m:%Y-%m}" for m in made) or "none"
    closed = ", ".join(f"{m:%Y-%m}" for m in sealed) or "none"
    logged = ", ".join(f"{m:%Y-%m}" for m in access) or "none"
    return (
        f"{len(attached)} month(s) attached up to {attached[-1]:%Y-%m}; made: {shown}; "
        f"sealed: {closed}; access log months made: {logged}"
    )


def _month_argument(value: str) -> date:
    from app.checkins import partitions

    try:
        return partitions.parse_month(value)
    except ValueError:
        typer.secho(f"not a month (YYYY-MM): {value}", fg="red", err=True)
        raise typer.Exit(2) from None


def seal_month(
    month: Annotated[str, typer.Argument(help="YYYY-MM, older than the upload window")],
) -> None:
    """Check an attached month of check-ins row by row and record its runs of chain positions
    (`zhucun daily` seals each month once it is past the upload window)."""
    from app.checkins import partitions
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.policy import get_policy
    from app.core.time import today

    first = _month_argument(month)
    policy = get_policy()
    engine = make_engine(get_settings().effective_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            if not partitions.is_partitioned(session.connection()):
                typer.secho("check-ins are not partitioned here (SQLite)", fg="red", err=True)
                raise typer.Exit(1)
            try:
                runs = partitions.seal(
                    session, first, today(policy.zone), policy.flags.max_age_days
                )
            except partitions.PartitionRefused as exc:
                typer.secho(f"refused: {exc}", fg="red", err=True)
                raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"{partitions.partition_name(first)} sealed: {runs} run(s)")


def detach_month(
    month: Annotated[str, typer.Argument(help="YYYY-MM, older than the upload window")],
    tablespace: Annotated[
        str | None, typer.Option(help="a (cold) tablespace to move the detached month to")
    ] = None,
) -> None:
    """Seal an old month of check-ins (each member's runs of chain positions, checked row by
    row) and detach its partition: it stays as table checkins_YYYY_MM (in `tablespace` if
    named) for `pg_dump -t`; `audit verify` bridges it; `attach` puts it back."""
    from app.checkins import partitions
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.policy import get_policy
    from app.core.time import today

    first = _month_argument(month)
    policy = get_policy()
    engine = make_engine(get_settings().effective_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            if not partitions.is_partitioned(session.connection()):
                typer.secho("check-ins are not partitioned here (SQLite)", fg="red", err=True)
                raise typer.Exit(1)
            try:
                runs = partitions.detach(
                    session, first, today(policy.zone), policy.flags.max_age_days, tablespace
                )
            except partitions.PartitionRefused as exc:
                typer.secho(f"refused: {exc}", fg="red", err=True)
                raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"{partitions.partition_name(first)} detached: {runs} run(s) sealed")


def attach_month(month: Annotated[str, typer.Argument(help="YYYY-MM, detached before")]) -> None:
    """Re-attach a detached month of check-ins (restored first if it was dumped and dropped)."""
    from app.checkins import partitions
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope

    first = _month_argument(month)
    engine = make_engine(get_settings().effective_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            try:
                partitions.attach(session, first)
            except partitions.PartitionRefused as exc:
                typer.secho(f"refused: {exc}", fg="red", err=True)
                raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"{partitions.partition_name(first)} attached")
