"""The roles of the v1 contract, shared by models, schemas and permission checks."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role. Extensible: later versions may add roles; clients must accept them."""

    MEMBER = "member"  # 驻村工作队员、第一书记
    TOWNSHIP = "township"  # 乡镇党委
    COUNTY = "county"  # 县区组织部门
    CITY = "city"  # 市委组织部
    UNIT = "unit"  # 派驻单位
    AUDITOR = "auditor"  # 审计、督查
    ADMIN = "admin"


ROLES = tuple(role.value for role in Role)
