"""Validation messages in Chinese, by Pydantic's error type, for `errors[].msg` under zh-CN.

Pydantic writes its messages in English only; these follow the same types. A type not listed
here (or a validator's own message) keeps its English text behind a Chinese lead-in.
"""

from __future__ import annotations

from typing import Any

_ZH: dict[str, str] = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不允许的字段",
    "json_invalid": "JSON 格式错误",
    "json_type": "应为 JSON",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为数组",
    "string_type": "应为字符串",
    "bool_type": "应为布尔值",
    "bool_parsing": "应为布尔值（true 或 false）",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限数字",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应大于或等于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应小于或等于 {le}",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "至多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符合要求",
    "too_short": "至少 {min_length} 项",
    "too_long": "至多 {max_length} 项",
    "literal_error": "应为以下值之一：{expected}",
    "enum": "应为以下值之一：{expected}",
    "uuid_type": "应为 UUID",
    "uuid_parsing": "应为 UUID",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期（YYYY-MM-DD），不含时间",
    "datetime_type": "应为 RFC 3339 时间",
    "datetime_parsing": "应为 RFC 3339 时间",
    "datetime_from_date_parsing": "应为 RFC 3339 时间",
    "timezone_aware": "应为带时区偏移的时间，例如 2026-05-01T08:30:00+08:00",
    "url_parsing": "应为 URL",
    "body_malformed": "请求体无法解析（不是有效的 UTF-8 JSON）",
}


def message_zh(error_type: str, ctx: dict[str, Any] | None, english: str) -> str:
    template = _ZH.get(error_type)
    if template is None:
        # value_error and assertion_error carry our validators' own (English) words.
        return f"取值无效：{english.removeprefix('Value error, ')}"
    # Bounds as Pydantic's English shows them: 90, not 90.0.
    values = {k: f"{v:g}" if isinstance(v, float) else v for k, v in (ctx or {}).items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template
