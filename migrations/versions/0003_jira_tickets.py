"""Per-ticket state of the Jira staffing jobs.

Why: the board and ticket jobs answer each staffing request with one comment and update it only when the
result changed. Per ticket this remembers what the request was (input hash), what was understood from it
(so an unchanged ticket costs no LLM call), the result last posted and the comment it lives in, and a
lease (owner, expiry) so two concurrent runs never post two comments — a row, not a held connection.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jira_tickets",
        sa.Column("issue_key", sa.String(length=64), nullable=False),
        sa.Column("input_hash", sa.String(length=64), nullable=True),
        sa.Column("constraints", sa.JSON(), nullable=True),
        sa.Column("result_hash", sa.String(length=64), nullable=True),
        sa.Column("comment_id", sa.String(length=64), nullable=True),
        sa.Column("lease_owner", sa.String(length=120), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("issue_key", name=op.f("pk_jira_tickets")),
    )


def downgrade() -> None:
    op.drop_table("jira_tickets")
