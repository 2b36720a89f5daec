"""Delivery leases and the platform's order.

Why: turns are run by whichever replica holds a lease on the conversation (owner, expiry, heartbeat)
instead of a connection-holding advisory lock; user messages carry the platform's order (Slack `ts`, Teams
timestamp), the address to answer, what was already posted for the answer and the finished answer, so any
replica can finish or replace a half-delivered reply after a crash.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 19:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("order_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("reply_to", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("reply_ref", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("reply", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch.create_index("ix_messages_status_conversation_id", ["status", "conversation_id"])
    # Messages left mid-turn by the advisory-lock design are queued again under the new protocol.
    op.execute("UPDATE messages SET status = 'pending' WHERE status IN ('processing', 'retry', 'retrying')")


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_status_conversation_id")
        batch.drop_column("attempts")
        batch.drop_column("reply")
        batch.drop_column("reply_ref")
        batch.drop_column("reply_to")
        batch.drop_column("order_key")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
