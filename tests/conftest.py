"""Test fixtures: a real database per backend, the real ASGI app, and a small world of data.

Backend: `ZHUCUN_TEST_BACKEND=sqlite` (default; a migrated file copied per test) or `postgis`
(a fresh database created on `ZHUCUN_TEST_PG_URL`, migrated once, emptied between tests).
In PostGIS mode an unreachable server is an error, never a skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.db import make_engine, make_session_factory
from app.core.migrate import upgrade
from app.core.policy import Policy
from app.models import Base

# Property tests judge the code, not the machine: the suite runs on two shared cores, where a
# draw or an example can take seconds. A test's own @settings still sets its example count.
settings.register_profile(
    "zhucun",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("zhucun")

BACKEND = os.environ.get("ZHUCUN_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "ZHUCUN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_SECRET = "test-secret-" + "x" * 40


def pytest_report_header() -> str:
    return f"zhucun backend: {BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BACKEND == "postgis":
        return
    skip = pytest.mark.skip(reason="needs PostGIS (run with ZHUCUN_TEST_BACKEND=postgis)")
    for item in items:
        if "postgis" in item.keywords:
            item.add_marker(skip)


_postgis_ran = 0


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _postgis_ran
    if BACKEND == "postgis" and report.when == "call" and "postgis" in report.keywords:
        _postgis_ran += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # In PostGIS mode, a run whose PostGIS-only tests did not run is a failure. Judged where
    # the reports are gathered (the xdist controller, or the only process).
    if hasattr(session.config, "workerinput"):
        return
    selected = not session.config.getoption("-k") and not session.config.getoption("collectonly")
    if BACKEND == "postgis" and session.testscollected and _postgis_ran == 0 and selected:
        session.exitstatus = 1


@pytest.fixture(scope="session")
def backend() -> str:
    return BACKEND


@pytest.fixture(scope="session")
def template_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database that every test starts from."""
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    if BACKEND != "postgis":
        raise pytest.UsageError(f"unknown ZHUCUN_TEST_BACKEND {BACKEND!r}")
    name = f"zhucun_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.exit(f"PostGIS backend unreachable at {PG_ADMIN_URL}: {exc}", returncode=3)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_KEEP_ROWS = {"alembic_version", "boundary_revision", "spatial_ref_sys"}


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in _KEEP_ROWS]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE boundary_revision SET revision = revision + 1"))
    engine.dispose()


@pytest.fixture
def db_url(template_url: str, tmp_path: Path) -> str:
    """A database with the schema and no data, for this test alone."""
    if BACKEND == "sqlite":
        source = Path(template_url.removeprefix("sqlite:///"))
        target = tmp_path / "zhucun.db"
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    _empty_postgres(template_url)
    return template_url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session for arranging and inspecting data; commit what the app must see."""
    session = make_session_factory(engine)()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def policy() -> Policy:
    return Policy()


@pytest.fixture
def settings(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        DATABASE_URL=db_url,
        ZHUCUN_SIGNING_KEY_FILE=_signing_key_file(tmp_path_factory),
        ZHUCUN_SECRET_KEY=TEST_SECRET,
        ZHUCUN_MAX_BODY_BYTES=2_000_000,
        ZHUCUN_LOG_LEVEL="WARNING",
        ZHUCUN_EXPORT_DIR=tmp_path_factory.getbasetemp() / "exports",
    )


def _signing_key_file(factory: pytest.TempPathFactory) -> Path:
    """One development key for the run (made on first use, as a development server does)."""
    return factory.getbasetemp() / "signing-key.pem"


@pytest.fixture
def app(settings: Settings, policy: Policy):  # type: ignore[no-untyped-def]
    from app.main import create_app

    # The app's lifespan (TestClient, uvicorn) makes and disposes its engine.
    return create_app(settings, policy)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def world(db: Session, client):  # type: ignore[no-untyped-def]
    """A small county with villages, members and one user of every role (tests/world.py)."""
    from tests.world import World

    return World.build(db, client)
