"""`zhucun audit verify` of the checkins domain: the check-in chains, and that they still
extend the latest (or a given) signed checkpoint."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from app.audit.commands import audit_cli
from app.core.config import get_settings
from app.core.db import make_engine, make_session_factory, session_scope


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the `zhucun audit` group (made by app.audit)."""
    audit_cli.command("verify")(verify)


def verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="a checkpoint JSON (GET /audit/checkpoints/latest); default: the latest"),
    ] = None,
) -> None:
    """Verify every member's check-in hash chain, and that each chain extends the signed
    checkpoint; exit 1 naming the first broken link of each broken chain, 0 when all hold."""
    from app.checkins.audit import CheckpointClaim, verify_chains

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
    finally:
        engine.dispose()
    took = time.perf_counter() - began
    against = "" if report.checkpoint_id is None else f" against checkpoint {report.checkpoint_id}"
    if not report.intact:
        for link in report.broken:
            typer.secho(f"BROKEN: {link}", fg=typer.colors.RED, err=True)
        typer.secho(
            f"{len(report.broken)} of {report.chains} chain(s) broken{against} "
            f"({report.checkins} check-ins read in {took:.1f} s)",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(
        f"ok: {report.chains} chain(s), {report.checkins} check-in(s) verified{against} "
        f"in {took:.1f} s"
    )
