"""Imports every domain's models, so that `Base.metadata` knows all tables (Alembic, tests)."""

from app.audit import models as audit_models
from app.auth import models as auth_models
from app.checkins import models as checkin_models
from app.core import outbox
from app.core.db import Base
from app.households import models as household_models
from app.leave import models as leave_models
from app.ledger import models as ledger_models
from app.notify import models as notify_models
from app.org import models as org_models
from app.supervision import models as supervision_models
from app.surveys import models as survey_models

__all__ = [
    "Base",
    "audit_models",
    "auth_models",
    "checkin_models",
    "household_models",
    "leave_models",
    "ledger_models",
    "notify_models",
    "org_models",
    "outbox",
    "supervision_models",
    "survey_models",
]
