"""`GET /reports/surveys?survey_id=&format=`: the wave's results exported and signed, one row
per village and per member, in each format."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from tests.surveys.support import VILLAGE, answer, clock, codes_of, local, open_wave

__all__ = ["clock"]


def test_the_wave_exports_per_village_and_per_member_signed(world, clock):
    wave = open_wave(world)
    codes = codes_of(world, wave["id"])
    start = local(-1, 10)
    for n, values in enumerate([(5, 4, 4, 5, 4), (2, 3, 3, 2, "unknown"), (4, 4, 4, 4, 4)]):
        clock.now = start + timedelta(minutes=40 * n)
        assert answer(world.client, codes[n], values, user_agent=f"p{n}").status_code == 200
    clock.now = None

    r = world.get("county", f"/reports/surveys?survey_id={wave['id']}&format=json")
    assert r.status_code == 200, r.text
    body = r.json()
    village = next(v for v in body["villages"] if v["village_code"] == VILLAGE)
    # Satisfaction answers not unknown: 2 + 1 + 2 = 5, of them 4–5: 2 + 0 + 2 = 4.
    assert (village["answers"], village["satisfaction_rate"]) == (3, 0.8)
    assert village["known_rate"] == round(2 / 3, 4)
    assert village["burst"] == 0
    alice = next(m for m in body["members"] if m["member_id"] == world.members["alice"].id)
    assert (alice["answers"], alice["satisfaction_rate"]) == (3, 0.8)
    receipt = world.get("county", f"/reports/receipts/{r.headers['zhucun-receipt']}").json()
    assert receipt["query"]["report"] == "surveys"
    assert receipt["query"]["survey_id"] == wave["id"]

    r = world.get("auditor", f"/reports/surveys?survey_id={wave['id']}&format=csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    assert "满意率（剔除后）" in text
    assert any(row and row[0] == VILLAGE for row in csv.reader(io.StringIO(text)))
    xlsx = world.get("city", f"/reports/surveys?survey_id={wave['id']}&format=xlsx")
    assert xlsx.status_code == 200
    assert world.get("othercounty", f"/reports/surveys?survey_id={wave['id']}").status_code == 404
    assert world.get("township1", f"/reports/surveys?survey_id={wave['id']}").status_code == 403
