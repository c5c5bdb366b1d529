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
    # Separation of duties (三员分立, 等保 2.0): the three that replace `admin` when
    # `policy.security.separation_of_duties` is on.
    SYSADMIN = "sysadmin"  # 系统管理员: users, villages, households, settings
    SECURITY_ADMIN = "security_admin"  # 安全管理员: keys, security policy, unlocking accounts
    AUDIT_ADMIN = "audit_admin"  # 审计管理员: reads the action, access and login logs only


ROLES = tuple(role.value for role in Role)
# Roles that hold no scope: they see everything their duty covers.
UNSCOPED_ROLES = (Role.ADMIN, Role.SYSADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)
