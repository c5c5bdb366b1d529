"""The signing key as a request dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.audit.keys import SigningKey, signing_key
from app.core.deps import SettingsDep


def get_signing_key(settings: SettingsDep) -> SigningKey:
    return signing_key(settings)


SigningKeyDep = Annotated[SigningKey, Depends(get_signing_key)]
