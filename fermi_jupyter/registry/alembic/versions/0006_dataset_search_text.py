"""PostgreSQL: search one stored, lower-cased column instead of ILIKE on two.

``ILIKE`` lower-cases every row's name and description at every search (in a UTF-8 database
with a libc locale); a search walking a thousand rows spent most of its time there. The
generated column holds ``lower(name) || E'\\n' || lower(description)``, kept by PostgreSQL
itself, and a search is a plain ``LIKE`` on it. One pg_trgm index on it replaces the two on
name and description. SQLite keeps its FTS5 table (migration 0002): nothing changes there.

Revision ID: 0006_search_text
Revises: 0005_transfers
"""

import logging

from alembic import op

revision = "0006_search_text"
down_revision = "0005_transfers"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


def _has_trgm() -> bool:
    bind = op.get_bind()
    return bool(
        bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").first()
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE datasets ADD COLUMN search_text text GENERATED ALWAYS AS "
        "(lower(name) || E'\\n' || lower(description)) STORED"
    )
    if _has_trgm():
        op.execute("DROP INDEX IF EXISTS ix_datasets_name_trgm")
        op.execute("DROP INDEX IF EXISTS ix_datasets_description_trgm")
        op.execute(
            "CREATE INDEX ix_datasets_search_trgm ON datasets USING gin (search_text gin_trgm_ops)"
        )
    else:
        log.warning("pg_trgm unavailable: dataset search will scan")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_datasets_search_trgm")
    op.execute("ALTER TABLE datasets DROP COLUMN IF EXISTS search_text")
    if _has_trgm():
        op.execute("CREATE INDEX ix_datasets_name_trgm ON datasets USING gin (name gin_trgm_ops)")
        op.execute(
            "CREATE INDEX ix_datasets_description_trgm ON datasets "
            "USING gin (description gin_trgm_ops)"
        )
