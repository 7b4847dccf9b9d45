"""The event log every registry process appends to and tails (server-sent events).

Its id is the event's sequence number (the SSE ``id:``), so a client reconnecting with
``Last-Event-ID`` is replayed what it missed; old rows are pruned by the registry.

Revision ID: 0004_serving
Revises: 0003_jobs
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_serving"
down_revision = "0003_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("dataset_id", sa.String(40), nullable=True),
        sa.Column("owner", sa.String(255), nullable=True),
        sa.Column("team", sa.String(255), nullable=True),
        sa.Column("visibility", sa.String(16), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("events")
