"""The `zhucun` command line (docs/operator.md "Command line" lists the commands).

Imports are lazy, here and in every domain's `commands` module: a module that adds commands
imports typer and the standard library at the top, and what a command needs (SQLAlchemy,
settings, models…) inside it. `zhucun --help` then starts in a fraction of a second instead of
importing the whole service (tests/core/test_cli_startup.py holds it to that).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import Annotated

import typer

cli = typer.Typer(
    rich_markup_mode=None,
    help="Zhucun (驻村): check-ins and presence ledger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@cli.callback()
def _before_any_command() -> None:
    # Every mapper must be known before any session is used; not needed for --help.
    import app.models  # noqa: F401


db_cli = typer.Typer(rich_markup_mode=None, help="Database schema.", no_args_is_help=True)
policy_cli = typer.Typer(rich_markup_mode=None, help="The rules in force.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(policy_cli, name="policy")


def _database_url() -> str:
    from app.core.config import get_settings

    return get_settings().effective_database_url


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from app.core.migrate import upgrade

    upgrade(_database_url(), revision)
    typer.echo(f"database at {revision}")


@db_cli.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ("base" for an empty schema)."""
    from app.core.migrate import downgrade

    downgrade(_database_url(), revision)
    typer.echo(f"database at {revision}")


@policy_cli.command("show")
def policy_show() -> None:
    """Print the effective policy (defaults and the ZHUCUN_POLICY file) as JSON."""
    from app.core.policy import get_policy

    typer.echo(json.dumps(get_policy().model_dump(mode="json"), ensure_ascii=False, indent=2))


@policy_cli.command("check")
def policy_check() -> None:
    """Print the 等保 2.0 level-3 items the service covers and whether each is on under the
    policy in force (policy.security), for an assessor."""
    from pathlib import Path

    from app.audit.keys import SigningKeyError, read_key_file
    from app.auth.level3 import report
    from app.core.config import get_settings
    from app.core.policy import get_policy

    settings = get_settings()
    alg = None
    key_file = settings.signing_key_file
    if key_file is not None and Path(key_file).exists():
        try:
            alg = read_key_file(Path(key_file)).alg
        except SigningKeyError:
            alg = None
    for line in report(get_policy(), alg):
        typer.echo(line)


@cli.command("create-user")
def create_user(
    username: Annotated[str, typer.Option()],
    role: Annotated[
        str,
        typer.Option(
            help="member, township, county, city, unit, auditor, admin, sysadmin, "
            "security_admin, audit_admin"
        ),
    ],
    scope: Annotated[str | None, typer.Option(help="division prefix, or the unit's name")] = None,
    full_name: Annotated[str, typer.Option()] = "",
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="read the password from the first line of standard input (for scripts); "
            "without it the password is asked for, twice, and not shown",
        ),
    ] = False,
) -> None:
    """Create an account (members come from `import-roster`). With separation of duties
    (policy.security) no account may hold admin. The password is never an argument: arguments
    are seen by every user of the machine (ps) and kept in shell history."""
    from app.audit import actions as audit_actions
    from app.auth.hardening import complexity_problem
    from app.auth.roles import UNSCOPED_ROLES
    from app.auth.service import create_user as create
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.errors import AppError
    from app.core.policy import get_policy

    if role not in UNSCOPED_ROLES and not scope:
        raise _fail(
            "--scope is required for every role but admin, sysadmin, security_admin and "
            "audit_admin",
            2,
        )
    password = _read_password(password_stdin)
    security = get_policy().security
    if security.password_classes:
        problem = complexity_problem(security, password)
        if problem is not None:
            raise _fail(f"refused: {problem[1]}", 2)
    engine = make_engine(_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            user = create(
                session,
                username=username,
                password=password,
                role=role,
                scope=scope,
                full_name=full_name,
                member_id=None,
                separation_of_duties=security.separation_of_duties,
            )
            audit_actions.record(
                session,
                actor=audit_actions.CLI,
                action="user.create",
                subject=f"user:{user.id}",
                payload={"username": user.username, "role": user.role, "scope": user.scope},
            )
            typer.echo(f"created user {user.username} ({user.role}, scope {user.scope or '*'})")
    except AppError as exc:
        raise _fail(f"refused: {exc.detail('en')}", 2) from None
    finally:
        engine.dispose()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise _fail("--password-stdin: standard input held no password", 2)
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@cli.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    demo: Annotated[
        bool, typer.Option(help="load a generated demo county into an empty database")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            help="worker processes, each with its own database pool [default: ZHUCUN_WORKERS, "
            "else 1 on SQLite and one per CPU core on PostgreSQL]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the API. The embedded SQLite database is created and migrated on first start."""
    import uvicorn

    from app.core.config import get_settings
    from app.core.db import is_sqlite
    from app.core.migrate import behind, upgrade
    from app.failures import MIGRATE_FIRST

    url = _database_url()
    if get_settings().env == "production":
        from app.audit.keys import signing_key

        signing_key(get_settings())  # before anything starts: SigningKeyError is one line
    # Before anything is printed: a busy port would otherwise show logins for a server that
    # never starts.
    if not _port_free(host, port):
        raise _fail(f"port {port} on {host} is already in use: stop what holds it or pass --port")
    if is_sqlite(url):
        upgrade(url)
    elif behind(url):  # a server database is migrated by its operator, on purpose
        raise _fail(MIGRATE_FIRST)
    if get_settings().env == "production":
        _check_separation(url)
    workers = workers or default_workers(url)
    if demo:
        from app.demo import load_demo_if_empty

        load_demo_if_empty(url, docs_url=f"http://{host}:{port}/docs")
    uvicorn.run(
        "app.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        # The app reads X-Forwarded-For itself, from ZHUCUN_TRUSTED_PROXIES only: uvicorn's
        # default would believe it from 127.0.0.1, i.e. from any client on the same host.
        proxy_headers=False,
        access_log=False,
        # uvicorn kills a worker that does not answer its supervisor's ping within this many
        # seconds; its default (5) killed workers still importing the app on a busy machine,
        # over and over, so that the service never came up.
        timeout_worker_healthcheck=30,
    )


def _check_separation(url: str) -> None:
    """Under separation of duties a production start refuses while an account holds admin
    (DutiesNotSeparated: one line, app.failures)."""
    from app.auth.level3 import check_separation
    from app.core.db import make_engine, make_session_factory, session_scope
    from app.core.policy import get_policy

    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            check_separation(session, get_policy())
    finally:
        engine.dispose()


def default_workers(url: str) -> int:
    """ZHUCUN_WORKERS, else 1 on SQLite (one writer at a time whatever the count) and one per
    CPU core on PostgreSQL: a check-in is mostly Python CPU, and one process runs on one core
    (bench/checkins_bench.py measures one and two)."""
    from app.core.db import is_sqlite

    configured = os.environ.get("ZHUCUN_WORKERS", "").strip()
    if configured:
        try:
            count = int(configured)
        except ValueError:
            raise _fail(f"ZHUCUN_WORKERS must be a whole number, not {configured!r}") from None
        if count < 1:
            raise _fail("ZHUCUN_WORKERS must be at least 1")
        return count
    return 1 if is_sqlite(url) else max(1, os.cpu_count() or 1)


def _register_domain_commands() -> None:
    from app import daily
    from app.audit import commands as audit_commands
    from app.auth import commands as auth_commands
    from app.checkins import commands as checkin_commands
    from app.households import commands as household_commands
    from app.leave import commands as leave_commands
    from app.ledger import commands as ledger_commands
    from app.notify import commands as notify_commands
    from app.org import commands as org_commands
    from app.privacy import commands as privacy_commands
    from app.rollup import commands as rollup_commands
    from app.supervision import commands as supervision_commands
    from app.surveys import commands as survey_commands

    for module in (
        audit_commands,
        auth_commands,
        org_commands,
        checkin_commands,
        ledger_commands,
        leave_commands,
        supervision_commands,
        household_commands,
        survey_commands,
        notify_commands,
        privacy_commands,
        rollup_commands,
    ):
        module.register(cli)
    ledger_commands.register_assignment(cli)
    daily.register(cli)


_register_domain_commands()


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        _exit_for(exc)
        raise


def _exit_for(exc: Exception) -> None:
    """Exits with one line when `exc` is the operator's to fix; returns when it is ours."""
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError

    from app.audit.keys import SigningKeyError
    from app.auth.level3 import DutiesNotSeparated
    from app.failures import operator_failure

    if isinstance(exc, ValidationError):
        # The environment's settings (app.core.config) are wrong: say what, in one line each.
        for error in exc.errors(include_url=False):
            where = ".".join(str(p) for p in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            typer.secho(f"zhucun: {where + ': ' if where else ''}{message}", fg="red", err=True)
        sys.exit(2)
    if isinstance(exc, SigningKeyError | DBAPIError | DutiesNotSeparated):
        # A missing key, a database out of reach or not migrated, an admin account under
        # separation of duties: one line, whichever command.
        reason = operator_failure(exc)
        if reason is None:
            return
        typer.secho(f"zhucun: {reason}", fg="red", err=True)
        sys.exit(2 if isinstance(exc, SigningKeyError | DutiesNotSeparated) else 1)


if __name__ == "__main__":
    main()
