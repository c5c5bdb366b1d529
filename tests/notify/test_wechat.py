"""Roll calls and leave decisions reach members as WeChat subscription messages (订阅消息),
against a fake of WeChat's API on loopback that checks what WeChat checks."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.leave.test_leave_lifecycle import ask, days_from_today
from tests.notify.conftest import (
    LEAVE_TEMPLATE,
    ROLL_CALL_TEMPLATE,
    bind_openid,
    deliveries,
    wait_until,
)
from tests.notify.test_webhooks import all_settled

LONG_MESSAGE = "请全体驻村干部立即在村内签到，县委组织部突击点名核查在岗情况"


def cn(day):
    return f"{day.year}年{day.month}月{day.day}日"


def roll_call(world, message=LONG_MESSAGE):
    r = world.post(
        "county", "/roll-calls", json={"scope": "430121", "window_minutes": 30, "message": message}
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_a_roll_call_reaches_each_called_member_with_a_bound_openid(world, engine, loopback):
    bind_openid(world.db, world.users["alice"].id, "openid-alice")
    bind_openid(world.db, world.users["carol"].id, "openid-carol")
    bind_openid(world.db, world.users["dave"].id, "openid-dave")  # not called: another county
    started = time.monotonic()
    call = roll_call(world)
    loopback.wecom.wait_for(lambda got: len(got) == 1, timeout=5)
    rows = wait_until(engine, lambda rows: len(rows) == 5 and all_settled(rows), timeout=5)
    assert time.monotonic() - started < 5

    sent = sorted(loopback.wechat.sent, key=lambda body: body["touser"])
    assert [body["touser"] for body in sent] == ["openid-alice", "openid-carol"]  # bob: unbound
    body = sent[0]
    assert body["template_id"] == ROLL_CALL_TEMPLATE
    assert body["page"] == f"pages/roll-call/index?roll_call_id={call['id']}"
    assert body["data"]["thing1"]["value"] == LONG_MESSAGE[:19] + "…"  # WeChat's 20 at most
    local = datetime.fromisoformat(call["deadline"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert body["data"]["time2"]["value"] == (
        f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    )
    assert [r.status for r in rows] == ["delivered"] * 5
    member_targets = sorted(r.target for r in rows if r.target.startswith("wechat:"))
    ids = sorted(f"wechat:{world.members[k].id}" for k in ("alice", "carol"))
    assert member_targets == ids
    content = loopback.wecom.requests[0].json()["markdown"]["content"]
    assert "### 【驻村】点名已发起" in content
    assert "> 应答人数：3" in content


def test_a_leave_decision_reaches_the_member_bound_through_sign_in(world, engine, loopback):
    loopback.wechat.codes["code-1"] = "openid-alice"
    r = world.client.post(
        "/api/v1/auth/wechat",
        json={"code": "code-1", "username": "alice", "password": "correct-horse-battery"},
    )
    assert r.status_code == 200, r.text
    leave = ask(world, "alice", days_from_today(3), days_from_today(4)).json()
    r = world.post("township1", f"/leave-requests/{leave['id']}/approve", json={"comment": "同意"})
    assert r.status_code == 200, r.text
    wait_until(engine, lambda rows: len(rows) == 7 and all_settled(rows))

    [body] = loopback.wechat.sent
    start, end = days_from_today(3), days_from_today(4)
    assert body["touser"] == "openid-alice"
    assert body["template_id"] == LEAVE_TEMPLATE
    assert "page" not in body  # no page configured: the card opens nothing
    assert body["data"] == {
        "phrase1": {"value": "已批准"},
        "thing2": {"value": "事假"},
        "date3": {"value": f"{cn(start)}~{cn(end)}"},
    }
    decided = [r.json() for r in loopback.json.requests if r.json()["topic"] == "leave.decided"]
    assert decided[0]["payload"]["comment"] == "同意"


def test_a_member_who_refused_the_subscription_is_not_asked_again(world, engine, loopback):
    bind_openid(world.db, world.users["alice"].id, "openid-alice")
    loopback.wechat.refused.add("openid-alice")
    roll_call(world)
    rows = wait_until(engine, lambda rows: len(rows) == 4 and all_settled(rows))
    [member] = [r for r in rows if r.target.startswith("wechat:")]
    assert (member.status, member.attempts) == ("refused", 1)
    assert member.last_error.startswith("errcode 43101")
    time.sleep(0.3)  # a retry would have come by now (backoff 0.05 s)
    sends = [r for r in loopback.wechat_api.requests if r.path.endswith("/subscribe/send")]
    assert len(sends) == 1
    assert loopback.wechat.sent == []


def test_a_refused_access_token_is_fetched_again_once(world, engine, loopback, monkeypatch):
    from app.notify import wechat

    monkeypatch.setattr(wechat, "TOKENS", wechat.AccessTokens())  # counts its own fetches
    bind_openid(world.db, world.users["alice"].id, "openid-alice")
    roll_call(world, "第一次点名")
    wait_until(engine, lambda rows: len(rows) == 4 and all_settled(rows))
    assert loopback.wechat.token_calls == 1
    loopback.wechat.rotate_token()  # another holder force-refreshed it
    roll_call(world, "第二次点名")
    rows = wait_until(engine, lambda rows: len(rows) == 8 and all_settled(rows))
    assert [r.status for r in rows] == ["delivered"] * 8
    assert [b["data"]["thing1"]["value"] for b in loopback.wechat.sent] == [
        "第一次点名",
        "第二次点名",
    ]
    assert loopback.wechat.token_calls == 2
    assert max(r.attempts for r in deliveries(engine)) == 1
