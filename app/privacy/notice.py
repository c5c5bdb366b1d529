"""The privacy notice (个人信息处理告知): versioned; a member acknowledges each version once.

The basis is statutory duty and HR management (PIPL Art. 13 (2) and (3)), not consent: a
member cannot refuse the presence record their post requires, so the notice informs and the
acknowledgement records that they were informed. A changed text is a new VERSION."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.policy import Policy

VERSION = "2026-12"


@dataclass(frozen=True)
class Notice:
    version: str
    text: str
    basis: str
    data: list[str]
    retention: list[str]
    contact: str


_ZH = {
    "text": (
        "为落实驻村第一书记和工作队员“吃住在村、工作在村”的管理要求（请销假、考勤、督查、年度考核），"
        "本系统处理您的签到定位等个人信息。行踪轨迹属于敏感个人信息（《个人信息保护法》第二十八条），"
        "本系统只在您点击签到、应答点名或走访时取一次位置，不做连续定位；"
        "原始坐标在保存期满后删除，只保留判断结果和防篡改哈希。"
        "除您本人外，任何人查看您的位置记录都会写入访问日志，您可在“谁看了我的位置”中查阅。"
    ),
    "basis": (
        "《个人信息保护法》第十三条第一款第（二）项（按照依法制定的劳动规章制度实施人力资源管理所必需）"
        "和第（三）项（履行法定职责或者法定义务所必需）；不以同意为处理依据。"
    ),
    "data": [
        "账号与任职信息（姓名、派驻单位、职务、派驻村及起止日期）",
        "签到：时间、位置（WGS84 坐标、精度、海拔、速度、方向）、设备标识、看到的 Wi-Fi 热点",
        "判断结果：所在村、是否在村界内及距离、风险标记，以及审核记录",
        "请销假、事件报告、点名应答、投诉建议",
        "他人查看您位置记录的访问日志",
    ],
    "retention": [
        "原始坐标、海拔、速度、方向和 Wi-Fi：采集后 {raw_fix_days} 天删除",
        "村、围栏判断、距离（取整到 10 米）、精度、风险标记和哈希：与考勤台账同期保存",
        "农户联系电话：结对结束后 {household_phone_days} 天删除",
        "访问日志与操作日志：长期保存，防篡改（哈希链并定期签名）",
    ],
}
_EN = {
    "text": (
        "To run the rules for resident first secretaries and work-team members (leave, "
        "attendance, inspections, the annual evaluation), this service processes your check-in "
        "positions. A track is sensitive personal information (PIPL Art. 28): the service takes "
        "one position per check-in, roll-call answer or visit and never tracks you continuously; "
        "raw coordinates are deleted after the retention period, keeping only the judgement and "
        "the tamper-evident hashes. Every read of your positions by anyone but you is written to "
        'an access log that you can read ("who looked at my positions").'
    ),
    "basis": (
        "PIPL Art. 13 (1) item 2 (human-resources management under lawful rules) and item 3 "
        "(statutory duties); consent is not the basis."
    ),
    "data": [
        "account and posting (name, dispatching unit, position, village and dates)",
        "check-ins: time, position (WGS84, accuracy, altitude, speed, heading), device id, the "
        "Wi-Fi access points seen",
        "the judgement: village, inside the boundary or not and the distance, flags, reviews",
        "leave, event reports, roll-call answers, complaints and suggestions",
        "the access log of others' reads of your positions",
    ],
    "retention": [
        "raw coordinates, altitude, speed, heading and Wi-Fi: deleted {raw_fix_days} days after "
        "capture",
        "village, geofence, distance (rounded to 10 m), accuracy, flags and hashes: kept with the "
        "attendance ledger",
        "households' phone numbers: deleted {household_phone_days} days after the pairing ends",
        "the access and actions logs: kept, tamper-evident (hash chains, signed checkpoints)",
    ],
}


def notice(policy: Policy, language: str) -> Notice:
    """The current notice in `language` (zh-CN unless English was asked for)."""
    words = _EN if language.startswith("en") else _ZH
    numbers = {
        "raw_fix_days": policy.privacy.raw_fix_days,
        "household_phone_days": policy.privacy.household_phone_days,
    }
    return Notice(
        version=VERSION,
        text=str(words["text"]),
        basis=str(words["basis"]),
        data=list(words["data"]),
        retention=[line.format(**numbers) for line in words["retention"]],
        contact=policy.privacy.contact,
    )
