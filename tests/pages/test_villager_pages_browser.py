"""The villagers' pages on their own phones: a member's visit at a household shows the countersign
QR full screen, a second phone opens its link and confirms (确认), and the member's page shows
the visit confirmed; a survey answered on /s/{code} with a code from a card sheet. Each page fits
390 px and is axe-clean. These need the households and surveys routes (issues 19 and 20): until
they are in the app, the tests say so and skip."""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.loopback import chromium_path, serving
from tests.pages.support import (
    PHONE,
    axe_source,
    axe_violations,
    overflow,
    shot,
    small_targets,
    until,
)
from tests.world import PASSWORD, centre

pytestmark = pytest.mark.browser

CARD_CODE = re.compile(r"[A-HJ-NP-Z2-9]{8}")  # 8 characters, no 0/O/1/I


def _routes(app) -> set[str]:  # type: ignore[no-untyped-def]
    """The API's paths, as its OpenAPI document lists them."""
    return set(app.openapi()["paths"])


def _need(app, *paths: str) -> None:  # type: ignore[no-untyped-def]
    missing = [p for p in paths if p not in _routes(app)]
    if missing:
        pytest.skip(f"routes not in the app yet: {', '.join(missing)}")


def _phone(browser, **extra):  # type: ignore[no-untyped-def]
    return browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
        locale="zh-CN", timezone_id="Asia/Shanghai", **extra,
    )  # fmt: skip


def _shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("ZHUCUN_SCREENSHOTS") or tmp_path)


def test_a_visit_is_countersigned_from_a_second_phone(world, app, tmp_path):
    _need(app, "/api/v1/visits", "/api/v1/me/households", "/api/v1/public/countersign/{token}")
    axe = axe_source()
    from playwright.sync_api import expect, sync_playwright

    lon, lat = centre("430121001001")
    paired = (date.today() - timedelta(days=30)).isoformat()
    sheet = (
        "household_code,village_code,head_name,address,latitude,longitude,coord_system,"
        "category,risk,phone,member_username,paired_from\r\n"
        f"H001,430121001001,王大山,东山村三组 12 号,{lat},{lon},wgs84,monitored,high,"
        f"13812345678,alice,{paired}\r\n"
    )
    imported = world.client.post(
        "/api/v1/households/import",
        content=sheet.encode("utf-8"),
        headers={**world.headers("county"), "Content-Type": "text/csv"},
    )
    assert imported.status_code in (200, 201), imported.text
    shots = _shots(tmp_path)
    with serving(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            member = _phone(
                browser,
                geolocation={"latitude": lat, "longitude": lon, "accuracy": 10},
                permissions=["geolocation"],
            ).new_page()
            member.goto(f"{base}/app")
            member.fill("#username", "alice")
            member.fill("#password", PASSWORD)
            member.click("#login-form button[type=submit]")
            member.wait_for_selector("#home:not([hidden])")
            member.click('#tabs button[data-tab="households"]')
            row = member.locator("#households li[data-household]")
            expect(row).to_have_count(1)
            expect(row).to_contain_text("王大山")
            assert overflow(member) == 0
            assert axe_violations(member, axe) == []
            shot(member, "app-households-list", shots)
            row.locator("button").click()
            member.check("#topics input[value=income]")
            member.fill("#visit-note", "了解今年收入")
            # No signal in the household's yard: the visit waits in the queue, then goes up
            # when the phone is back online, and the countersign QR comes up then.
            member.context.set_offline(True)
            member.click("#visit-form button[type=submit]")
            expect(member.locator("#pending")).to_have_text("待同步 1")
            expect(member.locator("#visit-msg")).to_contain_text("已保存")
            member.context.set_offline(False)
            member.wait_for_selector("#qr-screen:not([hidden])", timeout=20_000)
            expect(member.locator("#pending")).to_have_text("待同步 0")
            url = member.get_attribute("#qr-img", "data-url")
            assert url
            assert "/v/" in url
            # Polled through the DevTools protocol: the page's CSP refuses wait_for_function's eval.
            until(member, "document.getElementById('qr-img').naturalWidth > 0")
            assert overflow(member) == 0
            assert axe_violations(member, axe) == []
            shot(member, "app-visit-qr", shots)

            household = _phone(browser).new_page()
            household.goto(url)
            household.wait_for_selector("#ask:not([hidden])")
            expect(household.locator("#who")).to_contain_text("东山村")
            assert overflow(household) == 0
            assert axe_violations(household, axe) == []
            shot(household, "v-countersign", shots)
            household.check("input[name=knows][value=yes]")
            household.check("input[name=sat][value='5']")
            household.click("#yes")
            household.wait_for_selector("#done:not([hidden])")
            assert len(household.inner_text("#receipt").strip()) == 8
            assert overflow(household) == 0
            shot(household, "v-receipt", shots)

            expect(member.locator("#qr-state")).to_have_attribute(
                "data-confirmation", "confirmed", timeout=15_000
            )
            expect(member.locator("#qr-state")).to_contain_text("户主已确认")

            # A second visit, confirmed by typing its 6-digit code on /v.
            member.click("#qr-close")
            member.locator("#households li[data-household] button").click()
            member.click("#visit-form button[type=submit]")
            member.wait_for_selector("#qr-screen:not([hidden])", timeout=20_000)
            expect(member.locator("#qr-state")).not_to_have_attribute(
                "data-confirmation", "confirmed"
            )
            code = member.inner_text("#qr-code").split()[-1]
            assert re.fullmatch(r"\d{6}", code)
            code_page = _phone(browser).new_page()
            code_page.goto(f"{base}/v")
            code_page.wait_for_selector("#code-form:not([hidden])")
            assert overflow(code_page) == 0
            assert axe_violations(code_page, axe) == []
            shot(code_page, "v-code", shots)
            code_page.fill("#code", code)
            code_page.click("#code-form button[type=submit]")
            code_page.wait_for_selector("#ask:not([hidden])")
            code_page.check("input[name=knows][value=yes]")
            code_page.click("#yes")
            code_page.wait_for_selector("#done:not([hidden])")
            expect(member.locator("#qr-state")).to_have_attribute(
                "data-confirmation", "confirmed", timeout=15_000
            )
        finally:
            browser.close()


def test_a_survey_answered_with_a_code_from_a_card_sheet(world, app, tmp_path):
    _need(app, "/api/v1/surveys", "/api/v1/public/surveys/{code}")
    axe = axe_source()
    from playwright.sync_api import sync_playwright

    now = datetime.now(UTC)
    made = world.post(
        "county",
        "/surveys",
        json={
            "scope": "430121",
            "title": "2026 年第四季度驻村工作满意度测评",
            "opens_at": (now - timedelta(hours=1)).isoformat(),
            "closes_at": (now + timedelta(days=3)).isoformat(),
            "codes_per_village": 3,
        },
    )
    assert made.status_code == 201, made.text
    survey = made.json()
    cards = world.get(
        "county",
        f"/surveys/{survey['id']}/cards",
        params={"village_code": "430121001001", "format": "csv"},
    )
    assert cards.status_code == 200, cards.text
    rows = list(csv.DictReader(io.StringIO(cards.text.lstrip("\ufeff"))))
    code = rows[0]["code"]
    assert CARD_CODE.fullmatch(code)
    shots = _shots(tmp_path)
    with serving(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            page = _phone(browser).new_page()
            page.goto(f"{base}/s/{code}")
            page.wait_for_selector("#survey:not([hidden])")
            assert "东山村" in page.inner_text("#intro")
            questions = page.locator("#questions fieldset")
            assert questions.count() == len(survey["questions"])
            for q in survey["questions"]:
                page.check(f"input[name='{q['id']}'][value='4']")
            assert overflow(page) == 0
            assert axe_violations(page, axe) == []
            assert small_targets(page) == []
            shot(page, "s-survey", shots, full=True)
            page.click("#survey button[type=submit]")
            page.wait_for_selector("#done:not([hidden])")
            assert page.inner_text("#receipt").strip()
            shot(page, "s-receipt", shots)
        finally:
            browser.close()
    results = world.get("county", f"/surveys/{survey['id']}/results").json()
    answered = {v["village_code"]: v["answers"] for v in results["villages"]}
    assert answered.get("430121001001") == 1


def test_villager_pages_layout_on_a_phone(app, tmp_path):
    """The pages' own layout, whatever the service's state: the public answers are given in
    API.md's shapes by the browser's request routing (no database involved), so the pages are
    checked for fit, language and axe-core on their own."""
    axe = axe_source()
    import json
    from urllib.parse import urlparse

    from playwright.sync_api import sync_playwright

    answers = {
        "GET /api/v1/public/countersign/tok": {
            "member_name": "李明", "village_name": "东山村",
            "visited_at": "2026-12-07T10:20:00+08:00", "expires_at": "2026-12-07T10:50:00+08:00",
        },
        "POST /api/v1/public/countersign/tok": {"receipt": "K7Q2M9XP"},
        "GET /api/v1/public/surveys/ABCD2345": {
            "village_name": "东山村", "team": ["李明", "张华"],
            "closes_at": "2026-12-31T00:00:00+08:00",
            "questions": [
                {"id": "q1", "text": "认识驻村第一书记和工作队员吗", "kind": "known"},
                {"id": "q2", "text": "他们经常在村吗", "kind": "presence"},
                {"id": "q3", "text": "到你家走访过吗", "kind": "visited"},
                {"id": "q4", "text": "对帮扶工作满意吗", "kind": "satisfaction"},
                {"id": "q5", "text": "对工作作风满意吗", "kind": "satisfaction"},
            ],
        },
        "POST /api/v1/public/surveys/ABCD2345": {"receipt": "R4T8W2ZN", "answer_id": 1},
    }  # fmt: skip
    sent: list[dict] = []

    def answer(route, request) -> None:  # type: ignore[no-untyped-def]
        body = answers.get(f"{request.method} {urlparse(request.url).path}")
        if request.method == "POST":
            sent.append(json.loads(request.post_data or "{}"))
        route.fulfill(status=200 if body else 404, json=body or {"code": "not_found"})

    shots = _shots(tmp_path)
    with serving(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            page = _phone(browser).new_page()
            page.route("**/api/v1/public/**", answer)
            page.goto(f"{base}/v/tok")
            page.wait_for_selector("#ask:not([hidden])")
            assert "李明" in page.inner_text("#who")
            assert small_targets(page) == []
            assert overflow(page) == 0
            assert axe_violations(page, axe) == []
            shot(page, "v-countersign", shots)
            page.click("#no")
            assert "认识" in page.inner_text("#msg")  # asked first whether they know the member
            page.check("input[name=knows][value=no]")
            page.click("#no")
            page.wait_for_selector("#done:not([hidden])")
            assert page.inner_text("#receipt") == "K7Q2M9XP"
            assert "没有来过" in page.inner_text("#done-text")
            assert sent[-1]["confirmed"] is False
            assert sent[-1]["knows_member"] is False
            assert axe_violations(page, axe) == []
            shot(page, "v-receipt", shots)

            page.goto(f"{base}/v")
            page.wait_for_selector("#code-form:not([hidden])")
            assert overflow(page) == 0
            assert axe_violations(page, axe) == []
            shot(page, "v-code", shots)

            page.goto(f"{base}/s/ABCD2345")
            page.wait_for_selector("#survey:not([hidden])")
            assert page.locator("#questions fieldset").count() == 5
            for q in ("q1", "q2", "q3", "q4"):
                page.check(f"input[name={q}][value='4']")
            page.check("input[name=q5][value=unknown]")
            assert overflow(page) == 0
            assert axe_violations(page, axe) == []
            assert small_targets(page) == []
            shot(page, "s-survey", shots, full=True)
            page.click("#survey button[type=submit]")
            page.wait_for_selector("#done:not([hidden])")
            assert sent[-1]["answers"] == {"q1": 4, "q2": 4, "q3": 4, "q4": 4, "q5": "unknown"}
            assert page.inner_text("#receipt") == "R4T8W2ZN"
            shot(page, "s-receipt", shots)
        finally:
            browser.close()
