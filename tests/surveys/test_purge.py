"""Device hashes past `policy.surveys.device_days` after the wave closed: replaced by numbers
that group the wave's own answers, so `same_device` still shows and nothing else links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.surveys.models import Survey, SurveyAnswer
from app.surveys.purge import purge_devices
from tests.surveys.support import answer, clock, codes_of, local, open_wave

__all__ = ["clock"]


def test_purge_keeps_the_grouping_and_drops_the_hashes(world, db, policy, clock):
    wave = open_wave(world)
    codes = codes_of(world, wave["id"])
    for n in range(4):
        clock.now = local(-1, 9 + 2 * n)
        phone = "one-phone" if n < 3 else "another"
        assert answer(world.client, codes[n], (4, 4, 4, 4, 4), user_agent=phone).status_code == 200
    clock.now = None
    now = datetime.now(UTC)
    assert purge_devices(db, policy, now) == 0, "the wave is open: nothing to purge"
    db.commit()
    db.execute(
        update(Survey)
        .where(Survey.id == wave["id"])
        .values(closes_at=now - timedelta(days=policy.surveys.device_days + 1))
    )
    assert purge_devices(db, policy, now) == 1
    db.commit()
    devices = db.scalars(select(SurveyAnswer.device).order_by(SurveyAnswer.id)).all()
    assert devices == ["#1", "#1", "#1", "#2"]
    assert purge_devices(db, policy, now) == 0, "once"
    db.commit()
    village = world.get("county", f"/surveys/{wave['id']}/results").json()["villages"][0]
    kinds = [a["kind"] for a in village["anomalies"]]
    assert kinds == ["same_device"]
