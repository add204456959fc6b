"""The first schema: forecasts, their probabilities, resolutions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_forecasts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("case_hash", sa.String()),
        sa.Column("recorded_at", sa.String(), nullable=False),
        sa.Column("as_of", sa.String()),
        sa.Column("observed_hash", sa.String()),
        sa.Column("seed", sa.BigInteger()),
        sa.Column("draws", sa.BigInteger()),
        sa.Column("model", sa.String()),
        sa.Column("standoff_version", sa.String()),
        sa.Column("forecast", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_forecasts"),
    )
    op.create_index("ix_ledger_forecasts_case_id_id", "ledger_forecasts", ["case_id", "id"])
    op.create_table(
        "ledger_probabilities",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("p", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["ledger_forecasts.id"],
            name="fk_ledger_probabilities_record_id_ledger_forecasts",
        ),
        sa.PrimaryKeyConstraint("record_id", "position", name="pk_ledger_probabilities"),
    )
    op.create_table(
        "ledger_resolutions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("scenario_order", sa.Text()),
        sa.Column("resolved_on", sa.String()),
        sa.Column("note", sa.Text()),
        sa.Column("source", sa.Text()),
        sa.Column("file", sa.Text()),
        sa.Column("recorded_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_resolutions"),
    )
    op.create_index(
        "ix_ledger_resolutions_case_id_kind_item_id",
        "ledger_resolutions",
        ["case_id", "kind", "item", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_resolutions_case_id_kind_item_id", "ledger_resolutions")
    op.drop_table("ledger_resolutions")
    op.drop_table("ledger_probabilities")
    op.drop_index("ix_ledger_forecasts_case_id_id", "ledger_forecasts")
    op.drop_table("ledger_forecasts")
