"""Imports every domain's models, so that `Base.metadata` knows all tables (Alembic, tests)."""

from app.auth import models as auth_models
from app.core.db import Base
from app.org import models as org_models

__all__ = ["Base", "auth_models", "org_models"]
