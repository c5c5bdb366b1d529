"""The demo county has households paired with its members, and visits (check-ins too)."""

from __future__ import annotations

from sqlalchemy import select

from app.checkins.models import CheckIn
from app.demo import load_demo_if_empty
from app.households.models import Visit
from tests.org.test_demo import bearer


def test_the_demo_county_has_households_and_visits(db_url, db, client):
    assert load_demo_if_empty(db_url) is True
    county = bearer(client, "demo-county")
    listed = client.get("/api/v1/households?limit=100", headers=county).json()["items"]
    assert len(listed) == 48  # four for each of the 12 members
    assert all(h["member_id"] is not None for h in listed)
    mine = client.get("/api/v1/me/households", headers=bearer(client, "demo-member")).json()
    assert len(mine["items"]) == 4
    assert all(h["phone"] and "*" not in h["phone"] for h in mine["items"])
    visits = db.scalars(select(Visit)).all()
    checkins = {c.id: c for c in db.scalars(select(CheckIn)).all()}
    db.commit()
    for v in visits:  # each a check-in of its member, in the member's village
        assert checkins[v.checkin_id].member_id == v.member_id
        assert v.at_household
    report = client.get("/api/v1/reports/households?format=json", headers=county).json()
    assert len(report["items"]) == 48
