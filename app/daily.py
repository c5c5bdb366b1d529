"""`zhucun daily`: every job a deployment runs once a day, in order, one summary line each.

Adding a job is one line in JOBS: a name (the command that also runs it alone) and a function
returning its summary line. A failing job does not stop the ones after it; the command then
exits 1.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from app.audit.commands import sign_checkpoint
from app.auth.commands import purge_login_log
from app.checkins.commands import make_partitions_ahead, scan_replayed_tracks
from app.leave.commands import queue_overdue
from app.notify.commands import retry_deliveries
from app.privacy.commands import purge_raw_fixes
from app.rollup.commands import refresh_results
from app.supervision.commands import queue_overdue_rectifications
from app.surveys.commands import purge_survey_devices


@dataclass(frozen=True)
class Run:
    """What one daily run was asked for."""

    checkpoints: Path | None  # a folder: the checkpoint is also written there as DAY.json
    day: date

    def checkpoint_file(self) -> Path | None:
        return None if self.checkpoints is None else self.checkpoints / f"{self.day}.json"


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Run], str]


JOBS: tuple[Job, ...] = (
    # First: the coming months' check-in partitions exist before anything writes (PostgreSQL).
    Job("checkins partitions", lambda run: make_partitions_ahead()),
    Job("leave scan-overdue", lambda run: queue_overdue()),
    Job("supervision scan-overdue", lambda run: queue_overdue_rectifications()),
    Job("checkins scan-replays", lambda run: scan_replayed_tracks()),
    Job("surveys purge", lambda run: purge_survey_devices()),
    # After the scans, so that what they queued goes out now.
    Job("outbox retry", lambda run: retry_deliveries()),
    Job("auth purge-login-log", lambda run: purge_login_log()),
    # After the replay scan (which reads yesterday's positions); before the checkpoint.
    Job("privacy purge", lambda run: purge_raw_fixes()),
    # The rollup's compliance results as of today (statuses move with the calendar).
    Job("rollup refresh", lambda run: refresh_results()),
    # Last: the checkpoint signs what the jobs before it wrote.
    Job("audit checkpoint", lambda run: sign_checkpoint(run.checkpoint_file())),
)


def register(cli: typer.Typer) -> None:
    cli.command("daily")(daily)


def daily(
    checkpoints: Annotated[
        Path | None,
        typer.Option(help="a folder to write each day's checkpoint to, as YYYY-MM-DD.json"),
    ] = None,
) -> None:
    """Run every daily job in order (overdue leave and rectifications, the replay scan, survey
    device hashes past their days, a retry of failed notifications, the purge of old raw
    positions, the national rollup's compliance results, then a signed checkpoint), one
    summary line each; exit 1 if any failed (the others still run)."""
    from app.core.policy import get_policy
    from app.core.time import today

    run = Run(checkpoints=checkpoints, day=today(get_policy().zone))
    failed = [job.name for job in JOBS if not _run_one(job, run)]
    if failed:
        typer.secho(f"daily: {len(failed)} of {len(JOBS)} job(s) failed", fg="red", err=True)
        raise typer.Exit(1)


def _run_one(job: Job, run: Run) -> bool:
    from app.failures import operator_failure

    try:
        summary = job.run(run)
    except Exception as exc:  # one job's failure must not keep the others from running
        reason = operator_failure(exc)
        typer.secho(f"{job.name}: FAILED: {reason or repr(exc)}", fg="red", err=True)
        if reason is None:  # a fault of ours: the traceback is for the bug report
            traceback.print_exc()
        return False
    typer.echo(f"{job.name}: {summary}")
    return True
