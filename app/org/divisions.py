"""China's 12-digit statistical division codes: province 2 + city 2 + county 2 + township 3 +
village 3. A code's prefix is its ancestors; scoping a user to a region is a prefix."""

from __future__ import annotations

VILLAGE_CODE_LENGTH = 12
PROVINCE_CODE_LENGTH = 2


def is_village_code(code: str) -> bool:
    return len(code) == VILLAGE_CODE_LENGTH and code.isdigit()


def township_of(village_code: str) -> str:
    return village_code[:9]


def county_of(village_code: str) -> str:
    return village_code[:6]


def is_prefix(scope: str) -> bool:
    return scope.isdigit() and len(scope) <= VILLAGE_CODE_LENGTH
