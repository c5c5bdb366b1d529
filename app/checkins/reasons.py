"""`flag_reasons`: each flag of a check-in explained with its numbers, in zh-CN or en.

The numbers were stored beside the fix when it was judged (`rules.judge_flags`); a fix stored
before they were kept gets the reason without its numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.core.i18n import Language

# flag -> (zh-CN, en) templates over the stored numbers, and the text when none were stored.
_TEMPLATES: dict[str, tuple[str, str, str, str]] = {
    "mock_location": (
        "手机系统报告该定位为模拟位置",
        "the phone's OS reported a simulated location",
        "手机系统报告该定位为模拟位置",
        "the phone's OS reported a simulated location",
    ),
    "low_accuracy": (
        "定位精度 {accuracy_m:g} 米，差于 {limit_m:g} 米的要求",
        "accuracy {accuracy_m:g} m is worse than the {limit_m:g} m limit",
        "定位精度差于要求",
        "accuracy worse than the limit",
    ),
    "impossible_speed": (
        "{seconds:g} 秒内移动 {km:g} 公里（已扣除两次定位的精度范围）：约 {kmh} 公里/小时，"
        "超过 {limit_kmh:g} 公里/小时",
        "{km:g} km in {seconds:g} s beyond both accuracy circles: {kmh} km/h, over the "
        "{limit_kmh:g} km/h limit",
        "与相邻定位之间的速度不可能达到",
        "the speed implied from the neighbouring fix is impossible",
    ),
    "clock_skew": (
        "定位时间比服务器时间快 {ahead_s:g} 秒（允许 {limit_s:g} 秒）",
        "stamped {ahead_s:g} s ahead of the server's clock (limit {limit_s:g} s)",
        "定位时间快于服务器时间",
        "stamped ahead of the server's clock",
    ),
    "late_sync": (
        "采集后 {hours:g} 小时才上传（超过 {limit_hours:g} 小时）",
        "uploaded {hours:g} h after capture (over {limit_hours:g} h)",
        "上传时间晚于规定",
        "uploaded late",
    ),
    "repeated_fix": (
        "与 {date} 的一次定位在 {tolerance_m:g} 米内重合，且精度、海拔、速度、方向均相同",
        "within {tolerance_m:g} m of a fix of {date}, with the same accuracy, altitude, speed "
        "and heading",
        "与另一天的定位完全重合",
        "repeats a fix of another day",
    ),
    "device_change": (
        "设备由 {previous} 换为 {device}",
        "device changed from {previous} to {device}",
        "更换了设备",
        "device changed",
    ),
    "wrong_village": (
        "位于 {village_code} 村，而非驻村村 {assigned_village_code}",
        "inside village {village_code}, not the assigned village {assigned_village_code}",
        "位于其他村",
        "inside another village",
    ),
    "no_assignment": (
        "定位当天没有驻村安排",
        "no assignment on the fix's day",
        "定位当天没有驻村安排",
        "no assignment on the fix's day",
    ),
    "at_home_unit": (
        "工作日在派驻单位办公地点定位（距其 {distance_m:g} 米，范围 {radius_m:g} 米）",
        "on a working day at the dispatching unit's office ({distance_m:g} m from it, radius "
        "{radius_m:g} m)",
        "工作日在派驻单位办公地点定位",
        "at the dispatching unit's office on a working day",
    ),
    "shared_device": (
        "该设备 {days} 天内也上传过其他成员的定位：{names}",
        "this device sent fixes of other members within {days} days: {names}",
        "该设备也上传过其他成员的定位",
        "this device sent fixes of other members too",
    ),
    "replayed_track": (
        "当天 {fixes} 次连续定位与 {date} 的轨迹逐点重合（每点 {max_m:g} 米内，不超过 "
        "{tolerance_m:g} 米），时间整体平移 {days} 天又 {shift_min:g} 分钟",
        "{fixes} consecutive fixes repeat the track of {date} point by point (within "
        "{max_m:g} m, limit {tolerance_m:g} m), shifted by {days} day(s) and {shift_min:g} min",
        "当天轨迹与另一天的轨迹逐点重合",
        "the day's track repeats another day's point by point",
    ),
    "wifi_mismatch": (
        "手机看到 {seen} 个 Wi-Fi，但没有一个是该村已登记的",
        "the phone sees {seen} Wi-Fi access points, none of them registered in the village",
        "手机看到的 Wi-Fi 都不是该村已登记的",
        "none of the Wi-Fi access points the phone sees is registered in the village",
    ),
}


# Flags whose numbers name another member: the name is shown to reviewers only; a member
# reads these templates (the window, no name).
_UNNAMED: dict[str, tuple[str, str]] = {
    "shared_device": (
        "该设备 {days} 天内也上传过其他成员的定位",
        "this device sent fixes of other members within {days} days",
    ),
}


def reason(
    flag: str, numbers: Mapping[str, Any] | None, lang: Language, named: bool = False
) -> str:
    zh, en, zh_bare, en_bare = _TEMPLATES[flag]
    if flag in _UNNAMED and not named:
        zh, en = _UNNAMED[flag]
    if numbers is None:
        return zh_bare if lang == "zh-CN" else en_bare
    try:
        return (zh if lang == "zh-CN" else en).format(**numbers)
    except (KeyError, ValueError, TypeError):  # numbers of an older shape
        return zh_bare if lang == "zh-CN" else en_bare


def flag_reasons(
    flags: list[str],
    evidence: Mapping[str, Mapping[str, Any]] | None,
    lang: Language,
    named: bool = False,
) -> list[dict[str, str]]:
    """The reasons of `flags`; `named`: for a reviewer (another member is named)."""
    return [
        {"flag": flag, "reason": reason(flag, (evidence or {}).get(flag), lang, named)}
        for flag in flags
        if flag in _TEMPLATES
    ]
