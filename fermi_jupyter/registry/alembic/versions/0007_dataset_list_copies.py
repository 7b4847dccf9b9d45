"""Each dataset's newest ready version and aliases, kept on its row for lists.

A dataset list computed both with two correlated subqueries for each row of the page; the
registry now keeps them in ``datasets.latest_ready`` and ``datasets.alias_map`` whenever a
version's status or an alias changes (summary.py). Existing rows are filled here from their
versions and aliases, with the same subqueries.

Revision ID: 0007_list_copies
Revises: 0006_search_text
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_list_copies"
down_revision = "0006_search_text"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE on both (SQLite ≥ 3.35 drops columns too): a batch copy of the table
    # would lose SQLite's full-text triggers on it (migration 0002)
    op.add_column("datasets", sa.Column("latest_ready", sa.Integer(), nullable=True))
    op.add_column("datasets", sa.Column("alias_map", sa.JSON(), nullable=True))
    agg = (
        "json_object_agg(a.name, a.number)"
        if op.get_bind().dialect.name == "postgresql"
        else "json_group_object(a.name, a.number)"
    )
    op.execute(
        "UPDATE datasets SET "
        "latest_ready = (SELECT max(v.number) FROM versions v "
        "WHERE v.dataset_id = datasets.id AND v.status = 'ready'), "
        f"alias_map = (SELECT {agg} FROM aliases a WHERE a.dataset_id = datasets.id)"
    )


def downgrade() -> None:
    op.drop_column("datasets", "alias_map")
    op.drop_column("datasets", "latest_ready")
