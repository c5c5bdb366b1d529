"""Receivers on loopback, each answering as the real one documents: a JSON webhook that checks
Zhucun's signature, a WeCom group robot, a DingTalk robot that checks 加签 as DingTalk
computes it, and WeChat's stable_token and subscribeMessage.send."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every request; `answer` says what to answer (status, JSON body)."""

    answer: Callable[[Received], tuple[int, Any]]
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: Received) -> tuple[int, Any]:
        with self.lock:
            self.requests.append(request)
        return self.answer(request)

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(list(self.requests)):
                    return
            time.sleep(0.02)
        raise AssertionError(f"timed out; received {len(self.requests)} request(s)")


@contextmanager
def serve(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.do_POST()

        def do_POST(self) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Received(
                self.command,
                url.path,
                parse_qs(url.query),
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            status, answer = receiver.handle(request)
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


# --- the receivers' own checks (written from the receivers' documentation, not from app code) --


def zhucun_signature_ok(request: Received, secret: str, tolerance_s: int = 300) -> bool:
    """A JSON receiver's check: `t=…,v1=…`, v1 = hex HMAC-SHA256 of "t.body", t recent."""
    parts = dict(p.split("=", 1) for p in request.headers["zhucun-signature"].split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    recent = abs(time.time() - int(parts["t"])) <= tolerance_s
    return recent and hmac.compare_digest(expected, parts["v1"])


def dingtalk_sign_ok(query: dict[str, list[str]], secret: str) -> bool:
    """DingTalk's check of 加签: timestamp in ms within an hour of now; sign = Base64 of
    HmacSHA256(key=secret, "timestamp\\nsecret"), URL-encoded in the query (a "+" of the
    Base64 sent as is would read back as a space and fail)."""
    timestamp = query["timestamp"][0]
    if abs(time.time() * 1000 - int(timestamp)) > 3600 * 1000:
        return False
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    expected = base64.b64encode(mac.digest()).decode()
    return hmac.compare_digest(expected, query["sign"][0])


def wecom_answer(request: Received) -> tuple[int, Any]:
    body = request.json()
    if body.get("msgtype") != "markdown" or not body.get("markdown", {}).get("content"):
        return 200, {"errcode": 40008, "errmsg": "invalid message type"}
    if len(body["markdown"]["content"].encode()) > 4096:
        return 200, {"errcode": 40058, "errmsg": "content exceed max length"}
    return 200, {"errcode": 0, "errmsg": "ok"}


def dingtalk_answer(secret: str) -> Callable[[Received], tuple[int, Any]]:
    def answer(request: Received) -> tuple[int, Any]:
        if not request.query.get("sign") or not dingtalk_sign_ok(request.query, secret):
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        body = request.json()
        md = body.get("markdown", {})
        if body.get("msgtype") != "markdown" or not md.get("title") or not md.get("text"):
            return 200, {"errcode": 40035, "errmsg": "缺少参数 json"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    return answer


_HAN = re.compile(r"^[\u4e00-\u9fff]{1,5}$")
_TIME = re.compile(r"^(\d{4}年\d{1,2}月\d{1,2}日 )?\d{2}:\d{2}$")
_DATE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日(~\d{4}年\d{1,2}月\d{1,2}日)?$")


def _value_ok(keyword: str, value: object) -> bool:
    """subscribeMessage.send's limits on a keyword's value, by its type."""
    if not isinstance(value, str) or not value:
        return False
    kind = re.sub(r"\d+$", "", keyword)
    if kind == "thing":
        return len(value) <= 20
    if kind == "phrase":
        return bool(_HAN.match(value))
    if kind == "time":
        return bool(_TIME.match(value))
    if kind == "date":
        return bool(_DATE.match(value))
    return len(value) <= 20


class FakeWechatApi:
    """code2session, stable_token and subscribeMessage.send, as WeChat answers them."""

    def __init__(self, appid: str, secret: str) -> None:
        self.appid, self.secret = appid, secret
        self.token = "token-1"
        self.token_calls = 0
        self.refused: set[str] = set()  # openids whose member refused the subscription
        self.codes: dict[str, str] = {}  # wx.login code → openid
        self.sent: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def rotate_token(self) -> None:
        """Someone force-refreshed: the token we hold is refused from now on (40001)."""
        with self.lock:
            self.token = f"token-{int(self.token.split('-')[1]) + 1}"

    def answer(self, request: Received) -> tuple[int, Any]:
        if request.path == "/sns/jscode2session":
            openid = self.codes.pop(request.query.get("js_code", [""])[0], None)
            if openid is None:
                return 200, {"errcode": 40029, "errmsg": "invalid code"}
            return 200, {"openid": openid, "session_key": "c2Vzc2lvbg=="}
        if request.path == "/cgi-bin/stable_token":
            body = request.json()
            if (body.get("appid"), body.get("secret")) != (self.appid, self.secret):
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            if body.get("grant_type") != "client_credential" or body.get("force_refresh"):
                return 200, {"errcode": 40002, "errmsg": "invalid grant_type"}
            with self.lock:
                self.token_calls += 1
                return 200, {"access_token": self.token, "expires_in": 7200}
        if request.path == "/cgi-bin/message/subscribe/send":
            with self.lock:
                if request.query.get("access_token") != [self.token]:
                    return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            body = request.json()
            if not body.get("template_id") or not body.get("touser"):
                return 200, {"errcode": 40037, "errmsg": "invalid template id"}
            data = body.get("data") or {}
            bad = [k for k, v in data.items() if not _value_ok(k, v.get("value"))]
            if not data or bad:
                return 200, {"errcode": 47003, "errmsg": f"argument invalid! data.{bad}"}
            if body["touser"] in self.refused:
                return 200, {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
            with self.lock:
                self.sent.append(body)
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": len(self.sent)}
        return 404, {"errcode": 404}
