"""Refusals of the org domain."""

from app.core.errors import AppError, NotFound


class VillageNotFound(NotFound):
    code = "village_not_found"
    title_zh = "村不存在"
    title_en = "Village not found"
    detail_zh = "没有编码为 {code} 的村，或不在您的管辖范围内。"
    detail_en = "No village with code {code} in your scope."


class MemberNotFound(NotFound):
    code = "member_not_found"
    title_zh = "队员不存在"
    title_en = "Member not found"
    detail_zh = "没有编号为 {member_id} 的驻村队员，或不在您的管辖范围内。"
    detail_en = "No member {member_id} in your scope."


class NoAssignment(NotFound):
    code = "no_assignment"
    title_zh = "今日无驻村任务"
    title_en = "No assignment today"
    detail_zh = "您今天没有驻村任务。"
    detail_en = "You have no village assignment today."


class AssignmentOverlap(AppError):
    status = 409
    code = "assignment_overlap"
    title_zh = "驻村任务时间重叠"
    title_en = "Assignments overlap"
    detail_zh = "队员 {member_id} 在 {start} 至 {end} 已有驻村任务。"
    detail_en = "Member {member_id} already has an assignment between {start} and {end}."


class InvalidScope(AppError):
    status = 422
    code = "invalid_scope"
    title_zh = "范围参数无效"
    title_en = "Invalid scope"
    detail_zh = "scope 应为区划代码前缀（数字）。"
    detail_en = "scope is a division code prefix (digits)."


class ScopeNotFound(NotFound):
    code = "scope_not_found"
    title_zh = "范围不存在"
    title_en = "Scope not found"
    detail_zh = "范围 {scope} 不在您的管辖范围内。"
    detail_en = "Scope {scope} is outside yours."


class UnitNotFound(NotFound):
    code = "unit_not_found"
    title_zh = "派驻单位不存在"
    title_en = "Unit not found"
    detail_zh = "没有名为 {name} 的派驻单位，或不在您的管辖范围内。"
    detail_en = "No dispatching unit named {name} in your scope."
