"""The one migration history runs up, down and up again on the backend under test."""

from __future__ import annotations

from sqlalchemy import inspect

from app.core.db import make_engine
from app.core.migrate import downgrade, upgrade
from app.models import Base


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(db_url):
    expected = {t.name for t in Base.metadata.sorted_tables}
    assert expected <= _tables(db_url)
    downgrade(db_url, "base")
    assert not (expected & _tables(db_url))
    upgrade(db_url, "heads")
    assert expected <= _tables(db_url)


def test_models_and_migrations_agree(db_url):
    """Autogenerate finds nothing to do: the models are what the migrations build."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.core.migrate import comparing, include_object

    engine = make_engine(db_url)
    with engine.connect() as conn:
        comparing(conn.dialect.name)
        ctx = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    # PostGIS ships its own tables (spatial_ref_sys, tiger…): only our tables matter.
    ours = {t.name for t in Base.metadata.sorted_tables}
    relevant = [d for d in diff if _table_of(d) in ours or _table_of(d) is None]
    assert relevant == []


def _table_of(entry):  # type: ignore[no-untyped-def]
    op = entry[0] if isinstance(entry, tuple) else entry[0][0]
    item = entry[1] if isinstance(entry, tuple) else entry[0][1]
    if op in ("add_table", "remove_table"):
        return item.name
    table = getattr(item, "table", None)
    if table is not None:
        return table.name
    if isinstance(entry, list):
        return entry[0][2]
    return entry[2] if len(entry) > 2 and isinstance(entry[2], str) else None
