"""The map page in a real browser: Debian's headless Chromium driven by Playwright, against
the service on a loopback port. Signs in, checks every village of the seeded county is drawn in
the colour its story implies, opens a village and a member-day, and saves screenshots."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.reports.support import seed_story
from tests.world import PASSWORD

CHROMIUM = Path(os.environ.get("ZHUCUN_CHROMIUM", "/usr/bin/chromium"))
# The story's colours (app/reports/static/dashboard.js STATES), as computed styles.
EXPECTED = {
    "430121001001": ("good", "rgb(46, 157, 78)"),  # alice present
    "430121001002": ("leave", "rgb(91, 141, 239)"),  # bob on leave
    "430121002001": ("poor", "rgb(214, 69, 69)"),  # carol absent
}

pytestmark = pytest.mark.browser


def _browser_available() -> None:
    missing = []
    if not CHROMIUM.exists():
        missing.append(str(CHROMIUM))
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright")
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test needs {', '.join(missing)} (.ci/run installs them)")
        pytest.skip(f"needs {', '.join(missing)}")


@pytest.fixture
def live_url(app):
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def shots(tmp_path):
    folder = tmp_path / "screenshots"
    folder.mkdir()
    yield folder
    keep = os.environ.get("ZHUCUN_SCREENSHOTS")  # copy them somewhere to look at
    if keep:
        shutil.copytree(folder, keep, dirs_exist_ok=True)


def test_county_map_colours_opens_a_village_and_a_member_day(world, live_url, shots):
    _browser_available()
    from playwright.sync_api import sync_playwright

    today = seed_story(world)
    yesterday = (today - timedelta(days=1)).isoformat()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{live_url}/dashboard")
            page.fill("#username", "county")
            page.fill("#password", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_selector("body[data-loaded=overview]")
            assert page.context.cookies() == []
            assert page.evaluate("sessionStorage.getItem('zhucun.token')")

            drawn = page.locator("#map path.village")
            assert drawn.count() == len(EXPECTED)  # every village of the county, no other
            for code, (state, colour) in EXPECTED.items():
                path = page.locator(f'#map path[data-code="{code}"]')
                assert path.get_attribute("data-state") == state
                assert path.evaluate("p => getComputedStyle(p).fill") == colour
                assert path.bounding_box()["width"] > 20  # drawn at a visible size
            assert page.locator("#at-risk li").count() >= 1
            assert page.locator("#trend polyline").get_attribute("points")
            page.screenshot(path=str(shots / "1-overview.png"), full_page=True)

            page.click('#map path[data-code="430121001001"]')
            page.wait_for_selector("body[data-loaded=village]")
            assert "东山村" in page.inner_text("#village-title")
            cells = page.locator("#team td.member-day")
            assert cells.count() == 7
            page.screenshot(path=str(shots / "2-village.png"), full_page=True)

            page.click(f'#team td.member-day[data-date="{yesterday}"]')
            page.wait_for_selector("body[data-loaded=day]")
            assert page.locator("#fixes circle.fix.counted").count() == 2
            assert page.locator("#fixes circle.accuracy").count() == 2
            assert page.locator("#fixes path.outline").count() == 1
            # Times in the deployment's zone (the story's 8:00 and 17:00), not the browser's.
            listed = page.inner_text("#fix-list")
            assert "08:00:00" in listed
            assert "17:00:00" in listed
            page.screenshot(path=str(shots / "3-member-day.png"), full_page=True)

            # Coloured by the quota period's compliance instead: as the API judges each village.
            expected = world.get(
                "county", "/dashboard/overview", params={"colour": "compliance"}
            ).json()
            page.select_option("#colour", "compliance")
            page.click("#filters button[type=submit]")
            page.wait_for_selector("body[data-loaded=overview]")
            for village in expected["villages"]:
                path = page.locator(f'#map path[data-code="{village["code"]}"]')
                assert path.get_attribute("data-state") == village["state"]
            assert "进度" in page.inner_text("#legend")
            assert "—" not in page.inner_text("#legend")  # no entry for "all on leave"
            page.screenshot(path=str(shots / "4-compliance.png"), full_page=True)
            assert errors == []
        finally:
            browser.close()
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-overview.png",
        "2-village.png",
        "3-member-day.png",
        "4-compliance.png",
    ]
