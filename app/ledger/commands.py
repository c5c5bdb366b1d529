"""`zhucun ledger …` commands."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.org.assignments import Change


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the `zhucun` command line."""
    ledger_cli = typer.Typer(
        rich_markup_mode=None, help="The presence ledger.", no_args_is_help=True
    )
    cli.add_typer(ledger_cli, name="ledger")

    @ledger_cli.command("rebuild")
    def rebuild(
        member: Annotated[int | None, typer.Option(help="only this member id")] = None,
        from_: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
        to: Annotated[str | None, typer.Option("--to", help="last day, YYYY-MM-DD")] = None,
    ) -> None:
        """Recompute the ledger from check-ins, reviews and leave (all of it, or a part)."""
        from tqdm import tqdm

        from app.core.config import get_settings
        from app.core.db import make_engine, make_session_factory, session_scope
        from app.core.policy import get_policy
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
        # A bar on a terminal only: logs and pipes get the summary line alone.
        bar = tqdm(unit="member", file=sys.stderr, disable=None, leave=False)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            with session_scope(make_session_factory(engine)) as session:
                result = run(
                    session,
                    get_policy(),
                    member,
                    start,
                    end,
                    after_chunk=session.commit,
                    progress=progress,
                )
        finally:
            bar.close()
            engine.dispose()
        typer.echo(
            f"rebuilt {result.days} ledger day(s) of {result.members} member(s) "
            f"in {time.perf_counter() - began:.1f} s"
        )


def register_assignment(cli: typer.Typer) -> None:
    """`zhucun assignment end|move`: org changes the assignment, the changed days' fixes are
    judged again and the ledger is refreshed from that day, in one transaction
    (app/ledger/assignments.py)."""
    assignment_cli = typer.Typer(
        rich_markup_mode=None, help="End or move a member's assignment.", no_args_is_help=True
    )
    cli.add_typer(assignment_cli, name="assignment")

    def apply(change_of: Callable[[Session, int, date], Change], username: str) -> None:
        from app.core.config import get_settings
        from app.core.db import make_engine, make_session_factory, session_scope
        from app.core.errors import AppError
        from app.core.policy import get_policy
        from app.core.time import today
        from app.ledger.assignments import apply_change
        from app.org.assignments import NoOpenAssignment, member_of

        policy = get_policy()
        engine = make_engine(get_settings().effective_database_url)
        try:
            with session_scope(make_session_factory(engine)) as session:
                member_id = member_of(session, username)
                on = today(policy.zone)
                applied = apply_change(session, policy, member_id, lambda s, m: change_of(s, m, on))
        except (NoOpenAssignment, AppError) as exc:
            typer.echo(f"refused: {exc}", err=True)
            raise typer.Exit(1) from None
        finally:
            engine.dispose()
        typer.echo(
            f"{username} (member {member_id}): {applied.change.summary}; "
            f"{applied.rejudged} check-in(s) judged again; "
            f"{applied.ledger.days} ledger day(s) recomputed"
        )

    @assignment_cli.command("end")
    def end(
        username: Annotated[str, typer.Option(help="the member's login")],
        last_day: Annotated[str, typer.Option("--last-day", help="last day in the village")],
    ) -> None:
        """End the member's assignment on LAST_DAY (the member leaves for good)."""
        from app.org.assignments import end_assignment

        day = _day(last_day)
        apply(
            lambda session, member_id, on: end_assignment(session, member_id, day, today=on),
            username,
        )

    @assignment_cli.command("move")
    def move(
        username: Annotated[str, typer.Option(help="the member's login")],
        village: Annotated[str, typer.Option(help="the new village's 12-digit code")],
        first_day: Annotated[str, typer.Option("--first-day", help="first day in the new one")],
    ) -> None:
        """Move the member to VILLAGE from FIRST_DAY (the old assignment ends the day before)."""
        from app.org.assignments import move_assignment

        day = _day(first_day)
        apply(
            lambda session, member_id, on: move_assignment(
                session, member_id, village, day, today=on
            ),
            username,
        )


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
