"""`zhucun audit verify` of the checkins domain: the check-in chains, and that they still
extend the latest (or a given) signed checkpoint."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the `zhucun audit` group (made by app.audit)."""
    from app.audit.commands import audit_cli

    audit_cli.command("verify")(verify)
    checkins_cli = typer.Typer(
        rich_markup_mode=None, help="Check-ins: later findings", no_args_is_help=True
    )
    checkins_cli.command("scan-replays")(scan_replays)
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
) -> None:
    """Verify every member's check-in hash chain and the actions log (reviews, leave, imports,
    account changes), that each extends the signed checkpoint, and that every review and leave
    transition has its logged action; exit 1 naming what is broken, 0 when all holds."""
    from app.audit.actions_verify import verify_actions
    from app.checkins.audit import CheckpointClaim, verify_chains
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope

    claim = None
    if checkpoint is not None:
        try:
            claim = CheckpointClaim.from_json(json.loads(checkpoint.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            typer.secho(f"cannot read the checkpoint {checkpoint}: {exc}", fg="red", err=True)
            raise typer.Exit(2) from None
    engine = make_engine(get_settings().effective_database_url)
    began = time.perf_counter()
    try:
        with session_scope(make_session_factory(engine)) as session:
            report = verify_chains(session, claim, use_latest=checkpoint is None)
            # The actions log, against the same checkpoint, in the same snapshot.
            actions = verify_actions(
                session, None if claim is None else claim.document, use_latest=checkpoint is None
            )
    finally:
        engine.dispose()
    took = time.perf_counter() - began
    against = "" if report.checkpoint_id is None else f" against checkpoint {report.checkpoint_id}"
    logged = f"{actions.entries} logged action(s)" + (
        "" if actions.covered or actions.checkpoint_id is None else " (not covered by it)"
    )
    if not report.intact or not actions.intact:
        for link in report.broken:
            typer.secho(f"BROKEN: {link}", fg=typer.colors.RED, err=True)
        for problem in actions.problems:
            typer.secho(f"BROKEN: {problem}", fg=typer.colors.RED, err=True)
        typer.secho(
            f"{len(report.broken)} of {report.chains} chain(s) broken, "
            f"{len(actions.problems)} problem(s) in the actions log{against} "
            f"({report.checkins} check-ins, {logged} read in {took:.1f} s)",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(
        f"ok: {report.chains} chain(s), {report.checkins} check-in(s), {logged} "
        f"verified{against} in {took:.1f} s"
    )
