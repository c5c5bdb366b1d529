"""Alembic environment: one migration history for SQLite and PostGIS."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection

from app.core.config import get_settings
from app.core.db import make_engine
from app.core.migrate import comparing, include_object
from app.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("url") or get_settings().effective_database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            _run_without_foreign_keys(conn)
        else:
            _run(conn)
    engine.dispose()


def _run_without_foreign_keys(conn: Connection) -> None:
    """SQLite's own recipe for a table rebuild (lang_altertable.html, "other kinds of table
    schema changes"): foreign keys off outside the transaction (a batch rebuild drops a table
    others name), on again after it, and `foreign_key_check` must then find nothing."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")  # autocommit: SQLAlchemy has not begun yet
    try:
        _run(conn)
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows whose foreign keys fail: {broken[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _run(connection: Connection) -> None:
    comparing(connection.dialect.name)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs table rebuilds for ALTER
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
