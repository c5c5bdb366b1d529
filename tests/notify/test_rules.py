"""The pure rules of delivery, the settings' parsing, and the signatures, without a database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from app.core.config import Settings
from app.core.targets import ROLL_CALL_SOURCES, Webhook, parse_fields, parse_webhooks
from app.notify.rules import MAX_DELAY_S, clip_utf8, plain, retry_delay, template_value
from app.notify.senders import dingtalk_signed_url, json_signature

ZONE = ZoneInfo("Asia/Shanghai")


@given(st.integers(1, 100), st.floats(0.01, 600), st.floats(0, 0.999999))
def test_a_retry_waits_between_half_and_all_of_a_doubling_capped_ceiling(attempts, base, rand):
    ceiling = min(MAX_DELAY_S, base * 2 ** (attempts - 1))
    delay = retry_delay(attempts, base, rand)
    assert ceiling / 2 <= delay <= ceiling
    assert retry_delay(attempts + 1, base, rand) >= delay  # never sooner for a later try


def test_jitter_spreads_the_retries_of_deliveries_that_failed_together():
    assert retry_delay(3, 10, 0.0) == 20
    assert retry_delay(3, 10, 0.5) == 30
    assert retry_delay(40, 10, 0.0) == MAX_DELAY_S / 2


@given(st.text(max_size=400))
def test_free_text_becomes_one_inert_line(text):
    line = plain(text)
    assert "\n" not in line
    assert not set("<>[]`") & set(line)
    assert len(line) <= 200


def test_free_text_keeps_its_words_and_loses_its_markup():
    assert plain("村民  上访\n<@all> [链接](http://x)") == "村民 上访 ＜@all＞ ［链接］(http://x)"
    assert plain("很" * 300).endswith("…")


@given(st.text(min_size=1), st.integers(8, 5000))
def test_clipped_text_fits_its_bytes_and_stays_valid_utf8(text, limit):
    clipped = clip_utf8(text, limit)
    assert len(clipped.encode()) <= limit
    assert clipped == text or text.startswith(clipped[:-1])


_VALUES = st.one_of(
    st.text(max_size=60),
    st.integers(0, 10**9),
    st.dates(date(2000, 1, 1), date(2100, 1, 1)),
    st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.tuples(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.dates(date(2000, 1, 1))),
)
_HAN = re.compile(r"^[\u4e00-\u9fff]{1,5}$")
_TIME = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$")


@given(st.sampled_from(["thing1", "phrase2", "name3", "character_string4", "number5"]), _VALUES)
def test_a_template_value_keeps_within_its_keywords_limits(keyword, value):
    text = template_value(keyword, value, ZONE)
    assert text  # WeChat refuses an empty value
    if keyword.startswith("thing"):
        assert len(text) <= 20
    elif keyword.startswith("phrase"):
        assert _HAN.match(text)
    elif keyword.startswith("name"):
        assert len(text) <= 20
    elif keyword.startswith("character_string"):
        assert len(text) <= 32
        assert text.isascii()


def test_times_and_dates_are_written_as_wechat_reads_them():
    moment = datetime(2026, 11, 3, 7, 5, tzinfo=UTC)
    assert template_value("time2", moment, ZONE) == "2026年11月3日 15:05"
    assert _TIME.match(template_value("time2", date(2026, 11, 3), ZONE))
    span = (date(2026, 11, 3), date(2026, 11, 5))
    assert template_value("date3", span, ZONE) == "2026年11月3日~2026年11月5日"
    assert template_value("phrase1", "已批准", ZONE) == "已批准"
    assert template_value("phrase1", "approved", ZONE) == "无"


def test_webhook_targets_are_parsed_and_named_without_their_keys():
    hooks = parse_webhooks(
        "json:https://ops.example/hook, wecom:https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K"
    )
    assert [h.kind for h in hooks] == ["json", "wecom"]
    assert hooks[1].key.startswith("wecom:qyapi.weixin.qq.com/cgi-bin/webhook/send#")
    assert "K" not in hooks[1].key.split("#")[0]
    other = Webhook("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=L")
    assert other.key != hooks[1].key  # two robots of one host are two targets


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("slack:https://x", "'slack:https://x'"),
        ("json:ftp://x", "'json:ftp://x'"),
        ("json:https://a/h,json:https://a/h", "listed twice"),
        ("https://ops.example/hook", "'https://ops.example/hook'"),
    ],
)
def test_a_bad_webhook_target_is_refused_at_start_with_its_name(spec, named):
    with pytest.raises(ValidationError) as refused:
        Settings(ZHUCUN_WEBHOOKS=spec)
    assert named in str(refused.value)
    assert "ZHUCUN_WEBHOOKS" in str(refused.value)


def test_template_field_maps_are_checked_at_start():
    assert parse_fields("thing1=message, time2=deadline", ROLL_CALL_SOURCES, "X") == (
        ("thing1", "message"),
        ("time2", "deadline"),
    )
    with pytest.raises(ValidationError, match="ZHUCUN_WECHAT_FIELDS_ROLL_CALL"):
        Settings(ZHUCUN_WECHAT_FIELDS_ROLL_CALL="thing1=comment")
    with pytest.raises(ValidationError, match="ZHUCUN_WECHAT_FIELDS_LEAVE_DECISION"):
        Settings(ZHUCUN_WECHAT_FIELDS_LEAVE_DECISION="result")


def test_the_json_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":1}'
    header = json_signature("s3cret", 1_700_000_000, body)
    expected = hmac.new(b"s3cret", b'1700000000.{"id":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_the_dingtalk_sign_is_appended_url_encoded():
    # A secret and instant whose Base64 signature holds "+" and "/", which must travel encoded.
    secret = "SEC" + "a" * 61
    for ms in range(1_700_000_000_000, 1_700_000_000_200):
        digest = hmac.new(secret.encode(), f"{ms}\n{secret}".encode(), hashlib.sha256).digest()
        sign = base64.b64encode(digest).decode()
        if "+" in sign and "/" in sign:
            break
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=T", secret, ms)
    query = urlsplit(url).query
    assert "+" not in query
    assert parse_qs(query) == {"access_token": ["T"], "timestamp": [str(ms)], "sign": [sign]}
