"""Keep the model's own "not sure" half-width with each check.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

The result page draws the band the verdict was given under; before this column it
scored the stored text a second time to find it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``checks.band_halfwidth`` (nullable: older checks have none)."""
    with op.batch_alter_table("checks") as batch:
        batch.add_column(sa.Column("band_halfwidth", sa.Float(), nullable=True))


def downgrade() -> None:
    """Drop ``checks.band_halfwidth``."""
    with op.batch_alter_table("checks") as batch:
        batch.drop_column("band_halfwidth")
