"""`zhucun` commands of the org domain: imports of villages and the roster, the demo county."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

if TYPE_CHECKING:
    from tqdm import tqdm

Crs = Literal["wgs84", "gcj02"]


class _Refused(Exception):
    """Raised inside the transaction so that it rolls back; carries what to print."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("refused")
        self.lines = lines


def _fail(lines: list[str], code: int = 1) -> typer.Exit:
    for line in lines:
        typer.secho(line, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _sha256(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def _progress(total: int, unit: str) -> tqdm[None]:
    from tqdm import tqdm

    # Only on a terminal: logs and pipes get the summary alone.
    return tqdm(total=total, unit=unit, file=sys.stderr, disable=None, leave=False)


def import_villages(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON file")],
    code_field: Annotated[str, typer.Option(help="property with the 12-digit code")] = "code",
    name_field: Annotated[str, typer.Option(help="property with the village name")] = "name",
    crs: Annotated[
        Crs, typer.Option(help="coordinate system of the file (stored as WGS84)")
    ] = "wgs84",
    allow_overlap: Annotated[
        bool,
        typer.Option(
            help="import villages that overlap others by more than the policy's "
            "villages.max_overlap_share (they are listed)"
        ),
    ] = False,
) -> None:
    """Import village boundaries (Polygon/MultiPolygon features); all or nothing."""
    from app.audit import actions as audit_actions
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.policy import get_policy
    from app.org.boundaries import lock_boundaries
    from app.org.importers import overlaps as overlap_check
    from app.org.importers import villages as importer

    rules = get_policy().villages
    try:
        features = importer.load_feature_collection(file)
    except importer.VillageFileError as exc:
        raise _fail([f"refused: {exc}"]) from None
    with _progress(len(features), "feature") as bar:
        parsed = importer.parse_villages(
            features,
            code_field=code_field,
            name_field=name_field,
            crs=crs,
            max_vertices=rules.max_vertices,
            on_feature=bar.update,
        )
    if parsed.problems:
        refused = len({p.feature for p in parsed.problems})
        raise _fail(
            [f"refused {refused} of {len(features)} features; nothing was imported:"]
            + [f"  {p}" for p in parsed.problems]
        )
    engine = make_engine(get_settings().effective_database_url)
    try:
        with (
            session_scope(make_session_factory(engine)) as session,
            _progress(len(parsed.villages), "village") as bar,
        ):
            # Before reading the boundaries that overlaps are judged against: a concurrent
            # import must not add one in between.
            lock_boundaries(session)
            overlaps = overlap_check.find_overlaps(
                session, parsed.villages, rules.max_overlap_share
            )
            if overlaps and not allow_overlap:
                raise _Refused(
                    [
                        f"refused {len(overlaps)} overlap(s) of more than the policy's "
                        f"villages.max_overlap_share ({rules.max_overlap_share:.0%}); nothing "
                        "was imported (--allow-overlap imports them):"
                    ]
                    + [f"  {o}" for o in overlaps]
                )
            summary = importer.apply_villages(session, parsed.villages, on_village=bar.update)
            audit_actions.record(
                session,
                actor=audit_actions.CLI,
                action="import.villages",
                subject="import:villages",
                payload={
                    "file": file.name,
                    "sha256": _sha256(file),
                    **asdict(summary),
                    **({"overlaps_allowed": [str(o) for o in overlaps]} if overlaps else {}),
                },
            )
    except _Refused as exc:
        raise _fail(exc.lines) from None
    finally:
        engine.dispose()
    repaired = [v for v in parsed.villages if v.repaired]
    for village in repaired:
        typer.echo(f"feature {village.feature} ({village.code}): invalid ring repaired", err=True)
    for overlap in overlaps:
        typer.echo(f"{overlap} (allowed)", err=True)
    typer.echo(
        f"villages: {summary.created} created, {summary.changed} boundaries changed, "
        f"{summary.unchanged} unchanged, {summary.renamed} renamed"
    )


# Household files (a later importer) take the same option.
EncodingOption = Annotated[
    str | None,
    typer.Option(
        help="utf-8 or gb18030 (gbk): the file's encoding, when detection refuses a file "
        "you know to be one of them [default: detected]",
        show_default=False,
    ),
]


def import_roster(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file")],
    encoding: EncodingOption = None,
) -> None:
    """Import members, their accounts and assignments from a CSV roster; all or nothing."""
    from app.audit import actions as audit_actions
    from app.core.config import get_settings
    from app.core.csv_text import EncodingProblem, decode_csv
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.errors import AppError
    from app.org.importers import roster as importer

    try:
        parsed = importer.parse_roster(decode_csv(file.read_bytes(), encoding).text)
    except EncodingProblem as exc:
        raise _fail([f"refused: {exc.message}; nothing was imported"]) from None
    engine = make_engine(get_settings().effective_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            problems = parsed.problems + importer.roster_problems_in_db(session, parsed)
            if problems:
                problems.sort(key=lambda p: p.line)
                raise _Refused(
                    [f"refused {len({p.line for p in problems})} line(s); nothing was imported:"]
                    + [f"  {p}" for p in problems]
                )
            with _progress(len(parsed.members), "member") as bar:
                summary = importer.apply_roster(session, parsed.members, on_member=bar.update)
            audit_actions.record(
                session,
                actor=audit_actions.CLI,
                action="import.roster",
                subject="import:roster",
                payload={
                    "file": file.name,
                    "sha256": _sha256(file),
                    "members": summary.members,
                    "assignments": summary.assignments,
                    "new_units": summary.new_units,
                    # who got a generated password (never the password)
                    "generated_for": sorted(summary.generated_passwords),
                },
            )
    except _Refused as exc:
        raise _fail(exc.lines) from None
    except AppError as exc:
        raise _fail([f"refused: {exc.detail('en')}; nothing was imported"]) from None
    finally:
        engine.dispose()
    units = f", new units: {', '.join(summary.new_units)}" if summary.new_units else ""
    typer.echo(f"imported {summary.members} members, {summary.assignments} assignments{units}")
    if summary.generated_passwords:
        _print_passwords(summary.generated_passwords)


def _print_passwords(passwords: dict[str, str]) -> None:
    typer.secho(
        f"{len(passwords)} generated password(s) below, shown this once: hand each to its "
        "member, then do not keep this output.",
        fg=typer.colors.YELLOW,
        err=True,
    )
    width = max(len("username"), *(len(u) for u in passwords))
    typer.echo(f"{'username'.ljust(width)}  password")
    for username, password in passwords.items():
        typer.echo(f"{username.ljust(width)}  {password}")


def demo(
    force: Annotated[
        bool, typer.Option(help="add the demo county to a database that has other villages")
    ] = False,
) -> None:
    """Load the generated demo county (villages, units, members, logins)."""
    from app.core.config import get_settings
    from app.core.db import is_sqlite
    from app.core.migrate import upgrade
    from app.demo import DemoRefused, load_demo

    url = get_settings().effective_database_url
    if is_sqlite(url):
        upgrade(url)
    try:
        load_demo(url, force=force)
    except DemoRefused as exc:
        raise _fail([f"refused: {exc}"]) from None


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the `zhucun` command line."""
    cli.command("import-villages")(import_villages)
    cli.command("import-roster")(import_roster)
    cli.command("demo")(demo)
