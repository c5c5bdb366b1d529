"""Pure rules of delivery: when to try again, how a member's words go into a robot's markdown,
and how a value fits a WeChat subscription template's keyword."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

# The longest wait between two tries, whatever the attempt number.
MAX_DELAY_S = 3600.0


def retry_delay(attempts: int, base_s: float, rand: float) -> float:
    """Seconds before the next try after `attempts` failed ones: doubling from `base_s`, capped
    at an hour, with "equal jitter" (half fixed, half random by `rand` in [0, 1)) so that the
    deliveries that failed together when a target went down do not all come back together."""
    ceiling = min(MAX_DELAY_S, base_s * 2.0 ** max(0, attempts - 1))
    return ceiling / 2 + ceiling / 2 * rand


_SPACES = re.compile(r"\s+")
# What would make a member's words markup in a robot's markdown: a tag (WeCom's <font>, its
# <@userid> mention), a link or image. Replaced by their full-width look-alikes.
_MARKUP = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］", "`": "｀"})


def plain(text: str, limit: int = 200) -> str:
    """Someone's free text as one line of inert markdown, at most `limit` characters."""
    one_line = _SPACES.sub(" ", text).strip().translate(_MARKUP)
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def clip_utf8(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8, never inside a character (WeCom counts
    bytes)."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore") + "…"


# --- WeChat subscription templates ----------------------------------------------------------
# A keyword's type is its name without the number (thing1 → thing). Limits as WeChat's
# subscribeMessage.send documents them; a value that breaks one is refused (errcode 47003).

Value = str | int | date | datetime | tuple[date, date]
_TYPE = re.compile(r"^([a-z_]+?)[0-9]+$")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def keyword_type(keyword: str) -> str:
    match = _TYPE.match(keyword)
    return match.group(1) if match else keyword


def _day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _moment(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{_day(local.date())} {local:%H:%M}"


def _text(value: Value, zone: ZoneInfo) -> str:
    if isinstance(value, tuple):
        return f"{_day(value[0])}~{_day(value[1])}"
    if isinstance(value, datetime):
        return _moment(value, zone)
    if isinstance(value, date):
        return _day(value)
    return str(value)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def template_value(keyword: str, value: Value, zone: ZoneInfo) -> str:
    """`value` written as the keyword's type allows (never empty: WeChat refuses that)."""
    kind = keyword_type(keyword)
    text = _SPACES.sub(" ", _text(value, zone)).strip()
    if kind == "thing":  # 20 characters of any kind
        text = _cut(text, 20)
    elif kind == "phrase":  # 5 Chinese characters at most, nothing else
        text = "".join(_HAN.findall(text))[:5]
    elif kind == "name":  # 10 Chinese characters (or 20 letters)
        text = text[:10] if _HAN.search(text) else text[:20]
    elif kind == "character_string":  # 32 letters, digits or symbols
        text = "".join(c for c in text if c.isascii() and not c.isspace())[:32]
    elif kind == "number":
        text = "".join(c for c in text if c.isdigit() or c == ".")[:32]
    elif kind in ("time", "date"):
        if isinstance(value, date) and not isinstance(value, datetime) and kind == "time":
            text = f"{_day(value)} 00:00"
    else:
        text = _cut(text, 20)
    if text:
        return text
    return {"phrase": "无", "number": "0"}.get(kind, "-")
