"""The map page /dashboard on a 390 px phone: the header's form fits and 刷新 is on-screen, a
village and a member-day opened by a tap scroll into view, the charts' labels are drawn at 11 px
or more, the account's role and division read in Chinese, the status line sits inside the
padding, nothing overflows, and axe-core finds nothing serious."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from tests.loopback import chromium_path, serving
from tests.pages.support import PHONE, axe_source, axe_violations, overflow, shot
from tests.reports.support import seed_story
from tests.world import PASSWORD

pytestmark = pytest.mark.browser

# Rendered size of every text of an SVG chart, in CSS pixels (font size × the SVG's scale).
RENDERED = """sel => Array.from(document.querySelectorAll(sel)).map(t => {
    const m = t.ownerSVGElement.getScreenCTM();
    return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
})"""


def _inside_viewport(box: dict[str, float]) -> bool:
    return box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def _in_view(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    return bool(
        page.evaluate(
            "sel => { const r = document.querySelector(sel).getBoundingClientRect();"
            " return r.top >= -1 && r.top < innerHeight; }",
            selector,
        )
    )


def test_dashboard_fits_a_phone(world, app, tmp_path):
    axe = axe_source()
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("ZHUCUN_SCREENSHOTS") or tmp_path)
    today = seed_story(world)
    yesterday = (today - timedelta(days=1)).isoformat()
    with serving(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            context = browser.new_context(
                viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                locale="zh-CN", timezone_id="Asia/Shanghai",
            )  # fmt: skip
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/dashboard")
            page.wait_for_selector("#login-form")
            assert overflow(page) == 0
            assert axe_violations(page, axe) == []
            shot(page, "dashboard-login", shots, full=True)

            page.fill("#username", "county")
            page.fill("#password", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_selector("body[data-loaded=overview]")
            assert overflow(page) == 0
            assert _inside_viewport(page.locator("#filters").bounding_box())
            refresh = page.locator("#filters button[type=submit]")
            assert refresh.inner_text() == "刷新"
            assert _inside_viewport(refresh.bounding_box())
            assert refresh.bounding_box()["height"] >= 44
            who = page.inner_text("#who")
            assert "县（区）账号 · 辖区 430121" in who
            status = page.locator("#status").bounding_box()
            text = page.evaluate(
                "() => { const r = document.createRange();"
                " r.selectNodeContents(document.getElementById('status'));"
                " const b = r.getBoundingClientRect(); return [b.left, b.right]; }"
            )
            assert text[0] >= 8
            assert text[1] <= PHONE["width"] - 8
            assert status["width"] <= PHONE["width"]
            sizes = page.evaluate(RENDERED, "#trend text")
            assert sizes
            assert min(sizes) >= 11
            assert page.evaluate(RENDERED, "#map text")
            assert min(page.evaluate(RENDERED, "#map text")) >= 11
            assert axe_violations(page, axe) == []
            shot(page, "dashboard", shots, full=True)

            page.click('#map path[data-code="430121001001"]')
            page.wait_for_selector("body[data-loaded=village]")
            page.wait_for_timeout(300)
            assert _in_view(page, "#village-panel")
            assert overflow(page) == 0
            page.click(f'#team td.member-day[data-date="{yesterday}"]')
            page.wait_for_selector("body[data-loaded=day]")
            page.wait_for_timeout(300)
            assert _in_view(page, "#day-panel")
            assert overflow(page) == 0
            assert min(page.evaluate(RENDERED, "#fixes text")) >= 11
            assert axe_violations(page, axe) == []
            shot(page, "dashboard-day", shots, full=True)
            assert errors == []
        finally:
            browser.close()
