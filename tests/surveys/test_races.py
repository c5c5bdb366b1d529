"""One card sent twice at once (two phones, or a double tap on a slow network): the code's row
is locked before it is read, so exactly one answer is stored and the other is told 409.

Deterministic: a third transaction holds the code's row while both requests arrive, so both
are inside the service before either may go on."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select, text

from app.core.db import make_engine
from app.surveys.models import SurveyAnswer
from tests.live import live_server
from tests.locks import wait_for_lock_waiters
from tests.surveys.support import QUESTIONS, codes_of, open_wave

pytestmark = pytest.mark.postgis


def test_one_code_answered_twice_at_once_stores_exactly_one(world, app, db_url, db):
    wave = open_wave(world)
    code = codes_of(world, wave["id"])[0]
    holder_engine = make_engine(db_url)
    try:
        with live_server(app) as base, ThreadPoolExecutor(2) as pool:
            holder = holder_engine.connect()
            holder.execute(
                text("SELECT id FROM survey_codes WHERE survey_id = :s FOR UPDATE"),
                {"s": wave["id"]},
            )

            def send(phone: str, value: int) -> int:
                body = {"answers": dict.fromkeys(QUESTIONS, value), "comment": ""}
                with httpx.Client(base_url=base, timeout=60) as http:
                    return http.post(
                        f"/api/v1/public/surveys/{code}", json=body, headers={"User-Agent": phone}
                    ).status_code

            first = pool.submit(send, "phone-a", 5)
            second = pool.submit(send, "phone-b", 1)
            wait_for_lock_waiters(
                holder_engine, 2, timeout_s=20, what="answers waited on the code's row"
            )
            holder.commit()
            holder.close()
            statuses = sorted([first.result(), second.result()])
    finally:
        holder_engine.dispose()
    assert statuses == [200, 409]
    stored = db.scalar(select(func.count()).select_from(SurveyAnswer))
    assert stored == 1
