"""`zhucun import-households`: the same import as the route's, all or nothing, logged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.audit.models import ActionEntry
from app.households.models import Household
from tests.households.support import csv_of, row
from tests.ledger.support import today
from tests.org.helpers import zhucun


def test_the_command_imports_once_and_refuses_a_bad_line(world, db_url, db, tmp_path):
    t = today() - timedelta(days=3)
    good = tmp_path / "households.csv"
    good.write_bytes(csv_of(row("K1", 0, "alice", t), row("K2", 1, "bob", t)))
    result = zhucun(db_url, "import-households", str(good))
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output
    again = zhucun(db_url, "import-households", str(good))
    assert "2 unchanged" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_of(row("K3", 2, "alice", t), row("K4", 3, "alice", t, risk="soon")))
    refused = zhucun(db_url, "import-households", str(bad))
    assert refused.exit_code == 1
    assert "line 3:" in refused.stderr
    assert "nothing was imported" in refused.stderr
    assert db.scalar(select(func.count()).select_from(Household)) == 2
    actions = db.scalars(select(ActionEntry.action)).all()
    assert actions.count("import.households") == 2
    assert actions.count("household.pair") == 2
