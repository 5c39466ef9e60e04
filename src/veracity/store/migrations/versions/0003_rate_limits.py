"""Create the rate_limits table (request allowances shared by every worker process).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``rate_limits``, one token bucket per API key or client address."""
    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.String(100), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_rate_limits_updated", "rate_limits", ["updated"])


def downgrade() -> None:
    """Drop ``rate_limits``."""
    op.drop_table("rate_limits")
