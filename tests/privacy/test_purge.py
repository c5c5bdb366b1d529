"""Issue 21 item 2: retention that keeps the proof. A purge of fixes older than a 1-day policy
nulls their raw positions, leaves every report as it was (byte for byte but the coordinates),
`audit verify` green with the purged links counted apart, and an edit of a purged row (or of
its purge hash) still caught."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select, update
from typer.testing import CliRunner

from app.checkins.models import CheckIn
from app.cli import cli
from app.core.config import get_settings
from app.core.db import make_session_factory
from app.core.policy import Policy
from app.privacy.purge import purge
from tests.checkins.helpers import fix

ONE_DAY = Policy.model_validate({"privacy": {"raw_fix_days": 1}})


def _verify(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["audit", "verify"])
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def _story(world):
    """Two members, fixes from 50 hours to 1 hour old, inside and near their villages, one with
    motion fields and Wi-Fi."""
    for who, village in (("alice", "430121001001"), ("bob", "430121001002")):
        for hours, dlon in ((50, 0.0), (44, 0.001), (30, 0.0105), (26, 0.0), (2, 0.0), (1, 0.0)):
            body = fix(
                village,
                ago=timedelta(hours=hours),
                dlon=dlon,
                altitude_m=50.0,
                speed_mps=0.5,
                heading_deg=90.0,
                wifi=[{"bssid": "aa:bb:cc:dd:ee:ff", "rssi": -60}],
            )
            answer = world.post(who, "/checkins", json=body)
            assert answer.status_code == 201, answer.text


def _reports(world):
    today = date.today()
    start = today - timedelta(days=5)
    month = today.strftime("%Y-%m")
    got = {}
    for name, path, params in (
        ("presence", "/reports/presence", {"from": str(start), "to": str(today), "format": "csv"}),
        (
            "presence.json",
            "/reports/presence",
            {"from": str(start), "to": str(today), "format": "json"},
        ),
        (
            "compliance",
            "/reports/compliance",
            {"period": f"{today.year}Q{(today.month - 1) // 3 + 1}", "format": "csv"},
        ),
        ("monthly", "/reports/monthly", {"month": month, "format": "csv"}),
        ("burden", "/reports/burden", {"month": month}),
    ):
        answer = world.get("county", path, params=params)
        assert answer.status_code == 200, (name, answer.text)
        got[name] = answer.content
    for who in ("alice", "bob"):
        member = world.members[who].id
        got[f"ledger {who}"] = world.get(
            "county", f"/members/{member}/presence", params={"from": str(start), "to": str(today)}
        ).content
        got[f"compliance {who}"] = world.get("county", f"/compliance/members/{member}").content
    return got


_COORDS = re.compile(
    rb'"(latitude|longitude)":-?[0-9.]+|"(latitude|longitude)":null|"purged":(true|false)|"distance_m":[0-9.]+'
)


def _checkins_without_coordinates(world, who):
    member = world.members[who].id
    body = world.get(
        "alice" if who == "alice" else "bob", "/checkins", params={"limit": 100}
    ).content
    assert member
    return _COORDS.sub(b"", body)


def test_a_purge_keeps_every_report_and_the_proof(world, db, db_url, engine, monkeypatch):
    _story(world)
    world.post("admin", "/audit/checkpoints")
    before = _reports(world)
    lists_before = {w: _checkins_without_coordinates(world, w) for w in ("alice", "bob")}

    report = purge(make_session_factory(engine), ONE_DAY, batch=3)
    assert (report.purged, report.skipped) == (8, 0)  # 4 fixes each over a day old
    assert report.batches == 3

    assert _reports(world) == before
    assert {w: _checkins_without_coordinates(world, w) for w in ("alice", "bob")} == lists_before
    rows = list(db.scalars(select(CheckIn).order_by(CheckIn.id)))
    db.commit()
    purged = [r for r in rows if r.purged_at is not None]
    assert len(purged) == 8
    for r in purged:
        assert (r.latitude, r.longitude, r.raw_latitude, r.raw_longitude) == (None,) * 4
        assert (r.altitude_m, r.speed_mps, r.heading_deg, r.wifi) == (None,) * 4
        assert r.village_code is not None
        assert r.geofence is not None
        assert r.distance_m is None or r.distance_m % 10 == 0
        assert r.accuracy_m == 10.0
        assert r.row_hash
        assert r.purge_hash
    for r in rows:
        if r.purged_at is None:
            assert r.latitude is not None
            assert r.wifi
    shown = world.get("alice", "/checkins", params={"limit": 100}).json()["items"]
    assert sum(1 for c in shown if c["purged"]) == 4
    assert all(c["latitude"] is None for c in shown if c["purged"])

    code, out = _verify(db_url, monkeypatch)
    assert code == 0, out
    assert "(8 purged, verified from stored hashes)" in out
    # A second run finds nothing left; a new upload still chains on.
    assert purge(make_session_factory(engine), ONE_DAY).purged == 0
    assert world.post("alice", "/checkins", json=fix()).status_code == 201
    world.post("admin", "/audit/checkpoints")
    code, out = _verify(db_url, monkeypatch)
    assert code == 0, out


def test_an_edit_of_a_purged_row_is_caught(world, db, db_url, engine, monkeypatch):
    _story(world)
    purge(make_session_factory(engine), ONE_DAY)
    victim = db.scalar(select(CheckIn).where(CheckIn.purged_at.is_not(None)).limit(1))
    db.commit()
    # Credit an uncredited day after the purge: the purge hash no longer matches.
    db.execute(update(CheckIn).where(CheckIn.id == victim.id).values(credited=not victim.credited))
    db.commit()
    code, out = _verify(db_url, monkeypatch)
    assert code == 1
    assert "purge hash" in out
    # The attacker recomputes the purge hash too: the batch digest in the actions log catches it.
    from app.checkins import hashing
    from app.checkins.reading import c, checkins

    row = dict(db.execute(select(checkins).where(c.id == victim.id)).mappings().one())
    db.execute(
        update(CheckIn).where(CheckIn.id == victim.id).values(purge_hash=hashing.purged_hash(row))
    )
    db.commit()
    code, out = _verify(db_url, monkeypatch)
    assert code == 1
    assert "no longer make the digest" in out


def test_a_row_whose_link_does_not_verify_is_left_whole(world, db, engine):
    _story(world)
    victim = db.scalar(select(CheckIn).order_by(CheckIn.id).limit(1))
    db.execute(update(CheckIn).where(CheckIn.id == victim.id).values(accuracy_m=5.0))
    db.commit()
    report = purge(make_session_factory(engine), ONE_DAY)
    assert (report.purged, report.skipped) == (7, 1)
    again = db.get(CheckIn, victim.id)
    assert again.purged_at is None
    assert again.latitude is not None
    db.commit()
