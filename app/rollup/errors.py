"""Refusals of the national rollup."""

from app.core.errors import AppError


class RollupNotConfigured(AppError):
    status = 409
    code = "rollup_not_configured"
    title_zh = "未配置全国汇总"
    title_en = "Rollup not configured"
    detail_zh = "本库没有全国汇总的表（需要 PostgreSQL，并执行迁移 0024 及以后）。"
    detail_en = (
        "This database holds no national rollup tables (PostgreSQL, migrated to 0024 or later)."
    )
