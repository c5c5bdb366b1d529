"""The member's page /app on a phone, in Debian's Chromium driven by Playwright, against the
service on a loopback port: sign in, check in (credited), two taps offline ("待同步 2"), a reload
offline (the service worker opens the shell, still 2), back online (both stored exactly once,
checked through the API), a denied permission (a clear message, nothing queued); no horizontal
overflow at 390 px and no serious or critical axe-core finding on any screen; the shell's weight
and its load times on the throttled profile of issue 22."""

from __future__ import annotations

import os
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from app.core.policy import Policy
from tests.loopback import chromium_path, serving
from tests.pages.support import (
    PHONE,
    axe_source,
    axe_violations,
    overflow,
    shot,
    small_targets,
    throttle,
    timed_visit,
)
from tests.world import PASSWORD, centre

pytestmark = pytest.mark.browser

LON, LAT = centre("430121001001")  # alice's village


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("ZHUCUN_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _phone(browser, **extra):  # type: ignore[no-untyped-def]
    return browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        **extra,
    )


def _sign_in(page, base: str, username: str = "alice") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/app")
    page.wait_for_selector("#login-form")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#home:not([hidden])")


def _tap_check_in(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("#checkin:not([disabled])")
    page.click("#checkin")
    page.wait_for_selector("#checkin:not([disabled])")


def test_member_checks_in_online_and_offline_and_the_queue_replays_once(world, app, shots):
    axe = axe_source()
    from playwright.sync_api import expect, sync_playwright

    alice = world.members["alice"].id
    with serving(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            context = _phone(
                browser,
                geolocation={"latitude": LAT, "longitude": LON, "accuracy": 12},
                permissions=["geolocation"],
            )
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/app")
            page.wait_for_selector("#login-form")
            assert page.evaluate("document.documentElement.lang") == "zh-CN"
            assert overflow(page) == 0
            assert axe_violations(page, axe) == []
            shot(page, "app-login", shots)

            _sign_in(page, base)
            assert context.cookies() == []
            expect(page.locator("#where")).to_contain_text("在村内", timeout=20_000)
            expect(page.locator("#village")).to_contain_text("东山村")
            assert page.locator("#map path.village").count() == 1
            assert page.locator("#map circle.me").count() == 1
            expect(page.locator("#pending")).to_have_text("待同步 0")

            # Online: one tap, one high-accuracy fix, credited.
            _tap_check_in(page)
            expect(page.locator("#checkin-msg")).to_contain_text("计入在岗", timeout=20_000)
            expect(page.locator("#checkin-msg")).to_contain_text("精度 ±12 米")
            listed = world.get("alice", "/checkins", params={"member_id": alice}).json()["items"]
            assert len(listed) == 1
            assert listed[0]["credited"] is True
            assert listed[0]["coord_system"] == "wgs84"
            assert overflow(page) == 0
            assert axe_violations(page, axe) == []
            assert small_targets(page) == []
            shot(page, "app-today", shots)

            # The service worker holds the shell before the network goes.
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            page.wait_for_function(
                "caches.keys().then(k => k.some(n => n.startsWith('zhucun-app-')))"
            )

            # Offline: two taps, both kept on the phone.
            context.set_offline(True)
            expect(page.locator("#net")).to_have_text("离线")
            _tap_check_in(page)
            _tap_check_in(page)
            expect(page.locator("#pending")).to_have_text("待同步 2")
            queued = page.evaluate(
                """() => new Promise(resolve => {
                    const open = indexedDB.open('zhucun-app');
                    open.onsuccess = () => {
                        const all = open.result.transaction('queue').objectStore('queue').getAll();
                        all.onsuccess = () => resolve(all.result
                            .filter(i => i.status === 'pending').map(i => i.client_id));
                    };
                })"""
            )
            assert len(queued) == 2
            shot(page, "app-offline", shots)

            # A reload with no network: the shell opens from the service worker, still 2.
            page.reload()
            page.wait_for_selector("#home:not([hidden])")
            expect(page.locator("#pending")).to_have_text("待同步 2")
            expect(page.locator("#village")).to_contain_text("东山村")
            assert errors == []

            # Back online: replayed in order, each stored exactly once.
            context.set_offline(False)
            expect(page.locator("#pending")).to_have_text("待同步 0", timeout=20_000)
            page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # replay again
            page.wait_for_timeout(500)
            listed = world.get("alice", "/checkins", params={"member_id": alice}).json()["items"]
            assert len(listed) == 3
            stored = [c["client_id"] for c in listed]
            assert sorted(set(stored)) == sorted(stored)
            assert set(queued) <= set(stored)
            expect(page.locator("#queue li.q-done")).to_have_count(3)

            # A fix the server refuses (captured 40 days ago: too old) says why, in Chinese,
            # and an item older than 7 days is gone at the next start.
            page.evaluate(
                """([lat, lon]) => new Promise(resolve => {
                    const me = JSON.parse(localStorage.getItem('zhucun.cache.me'));
                    const open = indexedDB.open('zhucun-app');
                    open.onsuccess = () => {
                        const t = open.result.transaction('queue', 'readwrite');
                        const old = Date.now() - 40 * 86400000;
                        t.objectStore('queue').put({client_id: crypto.randomUUID(), kind: 'checkin',
                            seq: Date.now(), user_id: me.id, created: Date.now(),
                            status: 'pending', outcome: '待上传', label: '签到',
                            body: {client_id: crypto.randomUUID(),
                                   captured_at: new Date(old).toISOString(),
                                   latitude: lat, longitude: lon, accuracy_m: 10,
                                   coord_system: 'wgs84'}});
                        t.objectStore('queue').put({client_id: 'gone', kind: 'checkin',
                            seq: 1, user_id: me.id, created: Date.now() - 8 * 86400000,
                            status: 'done', outcome: '已上传', label: '签到', body: {}});
                        t.oncomplete = () => resolve(true);
                    };
                })""",
                [LAT, LON],
            )
            page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
            expect(page.locator("#queue li.q-rejected")).to_contain_text("超过 30 天")
            expect(page.locator("#pending")).to_have_text("待同步 0")
            page.reload()
            page.wait_for_selector("#home:not([hidden])")
            expect(page.locator("#queue li.q-rejected")).to_have_count(1)
            expect(page.locator('#queue li[data-client-id="gone"]')).to_have_count(0)
            expect(page.locator("#queue li")).to_have_count(4)

            # A denied permission: a clear message, nothing queued.
            context.clear_permissions()
            _tap_check_in(page)
            expect(page.locator("#checkin-msg")).to_contain_text("没有定位权限")
            expect(page.locator("#pending")).to_have_text("待同步 0")
            expect(page.locator("#queue li")).to_have_count(4)
            shot(page, "app-denied", shots)

            # Every other screen: fits 390 px, axe-clean.
            for tab in ("households", "leave", "more"):
                page.click(f'#tabs button[data-tab="{tab}"]')
                page.wait_for_selector(f"#tab-{tab}:not([hidden])")
                page.wait_for_timeout(300)
                assert overflow(page) == 0, tab
                assert axe_violations(page, axe) == [], tab
                assert small_targets(page) == [], tab
                shot(page, f"app-{tab}", shots)
            assert errors == []
        finally:
            browser.close()


def test_roll_call_answer_leave_an_event_and_a_single_refresh(world, app):
    from playwright.sync_api import expect, sync_playwright

    lon, lat = centre("430121001002")  # bob's village
    called = world.post(
        "county",
        "/roll-calls",
        json={"scope": "430121", "window_minutes": 60, "message": "在岗抽查"},
    )
    assert called.status_code == 201, called.text
    with serving(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            context = _phone(
                browser,
                geolocation={"latitude": lat, "longitude": lon, "accuracy": 15},
                permissions=["geolocation"],
            )
            page = context.new_page()
            _sign_in(page, base, "bob")

            # The open roll call as a banner; its button answers with a check-in.
            banner = page.locator("#roll-calls .banner")
            expect(banner).to_contain_text("在岗抽查")
            banner.locator("button").click()
            expect(page.locator("#checkin-msg")).to_contain_text("点名已应答", timeout=20_000)
            expect(page.locator("#roll-calls .banner")).to_contain_text("已应答")
            expect(page.locator("#roll-calls .banner button")).to_have_count(0)
            answered = world.get("county", f"/roll-calls/{called.json()['id']}").json()
            assert [m["full_name"] for m in answered["responded"]] == ["Bob"]

            # An access token that no longer works: the requests that meet it wait for one
            # refresh, then go through.
            refreshes: list[str] = []
            page.on(
                "request",
                lambda r: refreshes.append(r.url) if r.url.endswith("/auth/refresh") else None,
            )
            page.evaluate("localStorage.setItem('zhucun.access', 'expired.token.value')")
            page.click('#tabs button[data-tab="households"]')
            page.click('#tabs button[data-tab="more"]')
            page.click('#tabs button[data-tab="leave"]')
            expect(page.locator("#leaves li")).to_contain_text("暂无请假记录")
            page.wait_for_timeout(500)
            assert len(refreshes) == 1
            assert page.evaluate("localStorage.getItem('zhucun.access')") != "expired.token.value"

            # Leave: ask, then cancel while pending.
            page.fill("#leave-start", (date.today() + timedelta(days=10)).isoformat())
            page.fill("#leave-end", (date.today() + timedelta(days=11)).isoformat())
            page.fill("#leave-reason", "家中有事")
            page.click("#leave-form button[type=submit]")
            expect(page.locator("#leave-msg")).to_contain_text("已提交")
            expect(page.locator("#leaves li")).to_have_count(1)
            expect(page.locator("#leaves li")).to_contain_text("待审批")
            page.click("#leaves li button:has-text('撤销')")
            expect(page.locator("#leaves li")).to_contain_text("已撤销")
            asked = world.get("bob", "/leave-requests").json()["items"]
            assert [x["status"] for x in asked] == ["cancelled"]
            page.wait_for_timeout(200)

            # An approved leave that has begun: 续假 (extend), then 销假 (report back).
            today = datetime.now(Policy().zone).date()  # the deployment's day, not UTC's
            asked = world.post(
                "bob",
                "/leave-requests",
                json={
                    "type": "sick",
                    "start_date": (today - timedelta(days=1)).isoformat(),
                    "end_date": (today + timedelta(days=1)).isoformat(),
                    "reason": "发烧",
                    "emergency": True,
                },
            ).json()
            approved = world.post("township1", f"/leave-requests/{asked['id']}/approve", json={})
            assert approved.status_code == 200, approved.text
            page.click('#tabs button[data-tab="today"]')
            page.click('#tabs button[data-tab="leave"]')
            row = page.locator(f'#leaves li[data-leave="{asked["id"]}"]')
            expect(row).to_contain_text("已批准")
            row.locator("input[name=end_date]").fill((today + timedelta(days=3)).isoformat())
            row.locator("input[name=reason]").fill("病情未愈")
            row.locator("button:has-text('续假')").click()
            expect(page.locator("#leave-msg")).to_contain_text("续假成功")
            child = next(
                x
                for x in world.get("bob", "/leave-requests").json()["items"]
                if x["extends_id"] == asked["id"]
            )
            assert child["status"] == "pending"
            refused = world.post("township1", f"/leave-requests/{child['id']}/reject", json={})
            assert refused.status_code in (200, 403), refused.text
            if refused.status_code == 403:  # routed to a higher level by the total length
                world.post("county", f"/leave-requests/{child['id']}/reject", json={})
            page.click('#tabs button[data-tab="today"]')
            page.click('#tabs button[data-tab="leave"]')
            row = page.locator(f'#leaves li[data-leave="{asked["id"]}"]')
            row.locator("input[name=returned_on]").fill(today.isoformat())
            row.locator("button:has-text('销假')").click()
            expect(page.locator("#leave-msg")).to_contain_text("销假成功")
            expect(row).to_contain_text("已销假")
            back = world.get("bob", f"/leave-requests/{asked['id']}").json()
            assert back["status"] == "returned"
            assert back["returned_on"] == today.isoformat()

            # An event report.
            page.click('#tabs button[data-tab="more"]')
            page.select_option("#event-kind", "safety")
            page.fill("#event-at", _now_local())
            page.fill("#event-summary", "村道塌方，已设警示")
            page.click("#event-form button[type=submit]")
            expect(page.locator("#event-msg")).to_contain_text("已报告")
            events = world.get("county", "/events").json()["items"]
            assert [e["summary"] for e in events] == ["村道塌方，已设警示"]
            assert context.cookies() == []
        finally:
            browser.close()


def _now_local() -> str:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    return (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(minutes=10)).strftime(
        "%Y-%m-%dT%H:%M"
    )


def test_shell_weight_and_load_times_on_the_throttled_profile(app):
    """The shell's weight, and its load times on Chromium's emulation of 750 kbit/s and 100 ms
    round trips: three fresh phones, each visiting twice (the second from the service worker).
    The best of the three is held to the targets: the figure is what the network allows, and a
    test machine busy with other work only ever adds to it (bench/pages_bench.py gives medians
    on a quiet machine)."""
    from playwright.sync_api import sync_playwright

    from app.pages.router import ASSETS, SHELL, shell_bytes

    assert shell_bytes() <= 150 * 1024
    firsts: list[float] = []
    agains: list[float] = []
    with serving(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            for _ in range(3):
                context = _phone(browser)
                page = context.new_page()
                throttle(context, page)
                firsts.append(timed_visit(page, f"{base}/app"))
                page.evaluate("navigator.serviceWorker.ready.then(() => true)")
                page.wait_for_function(
                    "caches.keys().then(k => k.some(n => n.startsWith('zhucun-app-')))"
                )
                agains.append(timed_visit(page, f"{base}/app"))
                context.close()
        finally:
            browser.close()
    gzipped = sum(len(ASSETS[n].gzipped) for n in SHELL)
    sys.stdout.write(
        f"\nshell {shell_bytes()} B ({gzipped} B gzip); throttled first visits "
        f"{', '.join(f'{t:.2f}' for t in firsts)} s; from the service worker "
        f"{', '.join(f'{t:.2f}' for t in agains)} s\n"
    )
    assert min(firsts) <= 2.0
    assert min(agains) <= 0.5


def test_pages_are_served_compressed_with_csp_and_utf8(client):
    for path in ("/app", "/app/app.js", "/app/pages.css", "/app/sw.js", "/v", "/v/x", "/s/ABCD"):
        r = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, path
        assert r.headers["content-encoding"] == "gzip", path
        assert "charset=utf-8" in r.headers["content-type"], path
        assert r.headers["content-security-policy"].startswith("default-src 'self'"), path
        assert "set-cookie" not in r.headers
    plain = client.get("/app", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert '<html lang="zh-CN">' in plain.text
    assert "http://" not in plain.text  # no CDN
    assert "https://" not in plain.text
    etag = plain.headers["etag"]
    assert client.get("/app", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/app/sw.js").headers["service-worker-allowed"] == "/app"
    assert client.get("/app/app.html").status_code == 404
    assert client.get("/app/..%2Fpages.css").status_code == 404
    qr = client.get("/app/qr.svg", params={"text": "http://127.0.0.1/v/abc"})
    assert qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert client.get("/app/qr.svg", params={"text": "x" * 301}).status_code == 422


def test_privacy_notice_feedback_access_log_and_my_data(world, app, tmp_path):
    needed = {"/api/v1/privacy/notice", "/api/v1/me/access-log", "/api/v1/feedback"}
    missing = needed - set(app.openapi()["paths"])
    if missing:
        pytest.skip(f"routes not in the app yet: {', '.join(sorted(missing))}")
    import json
    import uuid
    from datetime import UTC, datetime

    from playwright.sync_api import expect, sync_playwright

    alice = world.members["alice"].id
    # Someone reads alice's positions: her access log says so.
    fix = {
        "client_id": str(uuid.uuid4()),
        "captured_at": datetime.now(UTC).isoformat(),
        "latitude": LAT,
        "longitude": LON,
        "accuracy_m": 10,
    }
    assert world.post("alice", "/checkins", json=fix).status_code == 201
    assert world.get("county", "/checkins", params={"member_id": alice}).json()["items"]
    with serving(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            page = _phone(browser, accept_downloads=True).new_page()
            _sign_in(page, base)
            expect(page.locator("#notice-banner")).to_be_visible()
            page.click("#notice-open")
            page.click("#notice-ack")
            expect(page.locator("#notice-banner")).to_be_hidden()
            assert world.get("alice", "/me").json()["notice_version"]

            page.select_option("#feedback-kind", "burden")
            page.fill("#feedback-text", "每天要填的表太多")
            page.click("#feedback-form button[type=submit]")
            expect(page.locator("#feedback-msg")).to_contain_text("已提交")
            expect(page.locator("#feedbacks li")).to_contain_text("每天要填的表太多")

            page.click("#show-access")
            expect(page.locator("#access-log li").first).to_contain_text("查看了我的签到位置")

            with page.expect_download() as got:
                page.click("#export")
            saved = tmp_path / "mine.json"
            got.value.save_as(saved)
            assert json.loads(saved.read_text(encoding="utf-8"))
            expect(page.locator("#privacy-msg")).to_contain_text("已下载")
        finally:
            browser.close()
