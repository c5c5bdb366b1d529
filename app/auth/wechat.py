"""WeChat mini-program sign-in: exchanging a `wx.login` code through `code2session`.

https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/user-login/code2Session.html
The session_key WeChat returns is not kept: Zhucun needs only the openid.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from app.auth.errors import WechatCodeInvalid, WechatDisabled, WechatUnavailable
from app.core.config import Settings

# code2session's errcodes for a code that is wrong, used already or from another app.
_BAD_CODE = {40029, 40163, 40226}


@dataclass(frozen=True)
class WechatIdentity:
    appid: str
    openid: str


def code2session(settings: Settings, code: str) -> WechatIdentity:
    """The openid behind a `wx.login` code; WechatCodeInvalid, WechatUnavailable or
    WechatDisabled otherwise."""
    if not settings.wechat_appid or not settings.wechat_secret:
        raise WechatDisabled()
    query = urllib.parse.urlencode(
        {
            "appid": settings.wechat_appid,
            "secret": settings.wechat_secret,
            "js_code": code,
            "grant_type": "authorization_code",
        }
    )
    url = f"{settings.wechat_api_base.rstrip('/')}/sns/jscode2session?{query}"
    try:
        with urllib.request.urlopen(url, timeout=settings.wechat_timeout_seconds) as response:
            answer = json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise WechatUnavailable(reason=type(exc).__name__) from None
    except (ValueError, UnicodeDecodeError):
        raise WechatUnavailable(reason="not JSON") from None
    if not isinstance(answer, dict):
        raise WechatUnavailable(reason="not a JSON object")
    errcode = answer.get("errcode") or 0
    if errcode in _BAD_CODE:
        raise WechatCodeInvalid()
    openid = answer.get("openid")
    if errcode or not isinstance(openid, str) or not openid:
        raise WechatUnavailable(reason=f"errcode {errcode} {answer.get('errmsg', '')}".strip())
    return WechatIdentity(appid=settings.wechat_appid, openid=openid)
