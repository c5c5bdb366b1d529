"""Satisfaction waves: surveys, their codes (hashed), answers, exclusions, and the public
routes' per-address hits

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("codes_per_village", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("devices_purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_surveys_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
    )
    op.create_index(op.f("ix_surveys_scope"), "surveys", ["scope"], unique=False)
    op.create_table(
        "survey_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("salt", sa.SmallInteger(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_codes_survey_id_surveys")
        ),
        sa.ForeignKeyConstraint(
            ["village_code"],
            ["villages.code"],
            name=op.f("fk_survey_codes_village_code_villages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_survey_codes_code_hash")),
        sa.UniqueConstraint(
            "survey_id",
            "village_code",
            "seq",
            name=op.f("uq_survey_codes_survey_id_village_code_seq"),
        ),
    )
    op.create_index(
        "ix_survey_codes_village", "survey_codes", ["village_code", "survey_id"], unique=False
    )
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("vector", sa.String(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("receipt", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["code_id"], ["survey_codes.id"], name=op.f("fk_survey_answers_code_id_survey_codes")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_answers_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint("code_id", name=op.f("uq_survey_answers_code_id")),
    )
    op.create_index(
        "ix_survey_answers_survey_village",
        "survey_answers",
        ["survey_id", "village_code"],
        unique=False,
    )
    op.create_table(
        "survey_exclusions",
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("excluded_by", sa.Integer(), nullable=False),
        sa.Column("excluded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["survey_answers.id"],
            name=op.f("fk_survey_exclusions_answer_id_survey_answers"),
        ),
        sa.ForeignKeyConstraint(
            ["excluded_by"], ["users.id"], name=op.f("fk_survey_exclusions_excluded_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_exclusions_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("answer_id", name=op.f("pk_survey_exclusions")),
    )
    op.create_index(
        op.f("ix_survey_exclusions_survey_id"), "survey_exclusions", ["survey_id"], unique=False
    )
    op.create_table(
        "survey_hits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_hits")),
    )
    op.create_index(op.f("ix_survey_hits_at"), "survey_hits", ["at"], unique=False)
    op.create_index("ix_survey_hits_address_at", "survey_hits", ["address", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_survey_hits_address_at", table_name="survey_hits")
    op.drop_index(op.f("ix_survey_hits_at"), table_name="survey_hits")
    op.drop_table("survey_hits")
    op.drop_index(op.f("ix_survey_exclusions_survey_id"), table_name="survey_exclusions")
    op.drop_table("survey_exclusions")
    op.drop_index("ix_survey_answers_survey_village", table_name="survey_answers")
    op.drop_table("survey_answers")
    op.drop_index("ix_survey_codes_village", table_name="survey_codes")
    op.drop_table("survey_codes")
    op.drop_index(op.f("ix_surveys_scope"), table_name="surveys")
    op.drop_table("surveys")
