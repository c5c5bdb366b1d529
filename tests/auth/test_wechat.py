"""WeChat mini-program sign-in against a fake code2session server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from app.auth.models import AuthSession, WechatBinding
from tests.world import PASSWORD

APPID = "wx0123456789abcdef"
APP_SECRET = "wechat-app-secret"


class FakeWechat:
    """code2session as WeChat answers it: each code maps to an answer and works once."""

    def __init__(self) -> None:
        self.codes: dict[str, dict[str, object]] = {}
        self.requests: list[dict[str, list[str]]] = []
        self.used: set[str] = set()

    def code(self, code: str, openid: str) -> str:
        self.codes[code] = {"openid": openid, "session_key": "c2Vzc2lvbi1rZXk="}
        return code

    def answer(self, query: dict[str, list[str]]) -> dict[str, object]:
        self.requests.append(query)
        if query.get("appid") != [APPID] or query.get("secret") != [APP_SECRET]:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        code = query.get("js_code", [""])[0]
        if code == "busy":
            return {"errcode": -1, "errmsg": "system error"}
        if code in self.used or code not in self.codes:
            return {"errcode": 40029, "errmsg": "invalid code"}
        self.used.add(code)
        return self.codes[code]


@pytest.fixture
def fake_wechat() -> Iterator[tuple[FakeWechat, str]]:
    fake = FakeWechat()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path != "/sns/jscode2session":
                self.send_error(404)
                return
            body = json.dumps(fake.answer(parse_qs(url.query))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")  # as WeChat sends it
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def wx(settings, policy, fake_wechat, world):  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    from app.main import create_app

    fake, base = fake_wechat
    configured = settings.model_copy(
        update={"wechat_appid": APPID, "wechat_secret": APP_SECRET, "wechat_api_base": base}
    )
    application = create_app(configured, policy)
    with TestClient(application) as client:
        yield fake, client


def wechat(client, **body: str):
    return client.post("/api/v1/auth/wechat", json=body)


def test_first_sign_in_binds_after_a_password_check_then_the_code_alone_works(wx, world, db):
    fake, client = wx
    r = wechat(client, code=fake.code("c1", "openid-alice"))
    assert r.status_code == 401
    assert r.json()["code"] == "wechat_not_bound"

    r = wechat(client, code=fake.code("c2", "openid-alice"), username="alice", password=PASSWORD)
    assert r.status_code == 200, r.text
    pair = r.json()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.json()["username"] == "alice"
    assert fake.requests[-1]["grant_type"] == ["authorization_code"]

    r = wechat(client, code=fake.code("c3", "openid-alice"))
    assert r.status_code == 200, r.text
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": r.json()["refresh_token"]})
    binding = db.scalar(select(WechatBinding))
    assert (binding.appid, binding.openid, binding.user_id) == (
        APPID,
        "openid-alice",
        world.users["alice"].id,
    )
    methods = db.scalars(select(AuthSession.method).where(AuthSession.method == "wechat")).all()
    assert len(methods) == 2


def test_binding_needs_the_right_password(wx, world, db):
    fake, client = wx
    r = wechat(client, code=fake.code("c1", "openid-x"), username="alice", password="wrong-pass")
    assert (r.status_code, r.json()["code"]) == (401, "invalid_credentials")
    assert db.scalar(select(WechatBinding)) is None


def test_one_wechat_user_per_account_and_one_account_per_wechat_user(wx, world):
    fake, client = wx
    assert wechat(client, code=fake.code("a", "o-1"), username="alice", password=PASSWORD)
    # Another account cannot take the same WeChat user…
    r = wechat(client, code=fake.code("b", "o-1"), username="bob", password=PASSWORD)
    assert (r.status_code, r.json()["code"]) == (409, "wechat_bound_elsewhere")
    # …nor can alice's account take a second one.
    r = wechat(client, code=fake.code("c", "o-2"), username="alice", password=PASSWORD)
    assert (r.status_code, r.json()["code"]) == (409, "wechat_bound_elsewhere")


def test_a_used_or_unknown_code_is_refused(wx, world):
    fake, client = wx
    code = fake.code("once", "o-1")
    assert wechat(client, code=code, username="alice", password=PASSWORD).status_code == 200
    r = wechat(client, code=code)
    assert (r.status_code, r.json()["code"]) == (401, "wechat_code_invalid")


def test_wechat_failure_is_502_and_no_wechat_is_503(wx, world, client):
    _, wx_client = wx
    r = wechat(wx_client, code="busy")
    assert (r.status_code, r.json()["code"]) == (502, "wechat_unavailable")
    # The default app has no appid configured.
    r = wechat(client, code="anything")
    assert (r.status_code, r.json()["code"]) == (503, "wechat_disabled")


def test_an_unreachable_wechat_is_502(settings, policy, world):
    from starlette.testclient import TestClient

    from app.main import create_app

    configured = settings.model_copy(
        update={
            "wechat_appid": APPID,
            "wechat_secret": APP_SECRET,
            "wechat_api_base": "http://127.0.0.1:9",  # discard port: nothing listens
            "wechat_timeout_seconds": 2.0,
        }
    )
    application = create_app(configured, policy)
    with TestClient(application) as client:
        r = wechat(client, code="abc")
    assert (r.status_code, r.json()["code"]) == (502, "wechat_unavailable")


def test_a_deactivated_account_cannot_sign_in_with_wechat(wx, world, db):
    fake, client = wx
    assert wechat(client, code=fake.code("a", "o-1"), username="bob", password=PASSWORD)
    world.users["bob"].is_active = False
    db.commit()
    r = wechat(client, code=fake.code("b", "o-1"))
    assert (r.status_code, r.json()["code"]) == (401, "invalid_credentials")


def test_username_without_password_is_a_validation_error(wx, world):
    _, client = wx
    r = wechat(client, code="x", username="alice")
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")
