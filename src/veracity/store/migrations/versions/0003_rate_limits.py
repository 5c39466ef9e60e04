"""Create what every worker process on one database shares: rate_limits and secrets.

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
    """Create ``rate_limits`` (a token bucket per API key or client address) and ``secrets``."""
    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.String(100), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_rate_limits_updated", "rate_limits", ["updated"])
    op.create_table(
        "secrets",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    """Drop ``secrets`` and ``rate_limits``."""
    op.drop_table("secrets")
    op.drop_table("rate_limits")
