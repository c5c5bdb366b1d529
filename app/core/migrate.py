"""Running the Alembic migrations from code (CLI, tests, first start).

The configuration is built here rather than read from alembic.ini, so that an installed
package (a wheel, the Docker image) migrates without the source tree.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

import migrations


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def behind(url: str) -> bool | None:
    """Whether the database lacks migrations of this code (never migrated, or at an older
    revision); None when it cannot be reached. A database migrated further than this code
    (a newer release's) is not behind."""
    script = ScriptDirectory.from_config(alembic_config(url))
    # A server that is down is told fast (the API answers 503 until it is up).
    quick = {"connect_timeout": 5} if url.startswith("postgresql+psycopg") else {}
    engine = create_engine(url, poolclass=NullPool, connect_args=quick)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
    except OperationalError:
        return None
    finally:
        engine.dispose()
    if script.get_current_head() in current:
        return False
    known = {revision.revision for revision in script.walk_revisions()}
    return all(revision in known for revision in current)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Autogenerate filter: GeoAlchemy2's, and skip objects limited to another dialect by
    `ddl_if` (Alembic does not honour it), such as the GiST index that only PostGIS has."""
    # A foreign key to a partitioned table (checkin_findings → checkins) shows, beside itself,
    # the server's own copies to each partition (`checkins_YYYY_MM`, `…_default`).
    if (
        type_ == "foreign_key_constraint"
        and reflected
        and compare_to is None
        and _PARTITION.search(obj.referred_table.name)
    ):
        return False
    ddl_if = getattr(obj, "_ddl_if", None)
    dialect = getattr(ddl_if, "dialect", None)
    if dialect is not None and _current_dialect and dialect != _current_dialect[-1]:
        return False
    included: bool = alembic_helpers.include_object(  # type: ignore[no-untyped-call]
        obj, name, type_, reflected, compare_to
    )
    return included


_PARTITION = re.compile(r"_(\d{4}_\d{2}|default)$")
# The dialect being compared, set by `comparing` (Alembic's hook has no access to it).
_current_dialect: list[str] = []


def comparing(dialect_name: str) -> None:
    _current_dialect[:] = [dialect_name]
