"""Refusals of the audit package."""

from app.core.errors import NotFound


class NoCheckpoint(NotFound):
    code = "no_checkpoint"
    title_zh = "尚无签名检查点"
    title_en = "No checkpoint yet"
    detail_zh = "尚未生成签名检查点（zhucun audit checkpoint）。"
    detail_en = "No signed checkpoint has been made yet (zhucun audit checkpoint)."


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"
    title_zh = "回执不存在"
    title_en = "Receipt not found"
    detail_zh = "没有编号为 {receipt_id} 的导出回执。"
    detail_en = "No export receipt {receipt_id}."
