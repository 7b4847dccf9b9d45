"""Substring search over dataset names and descriptions that stays fast at 100k datasets.

SQLite: an FTS5 table with the trigram tokenizer, kept in step by triggers.
PostgreSQL: pg_trgm GIN indexes, which ILIKE '%term%' uses. Skipped with a warning when the
extension cannot be created (search still works, by scanning).

Revision ID: 0002
Revises: 0001
"""

import logging

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

SQLITE_UP = [
    """CREATE VIRTUAL TABLE datasets_fts USING fts5(
        name, description, content='datasets', content_rowid='rowid', tokenize='trigram')""",
    """CREATE TRIGGER datasets_fts_ai AFTER INSERT ON datasets BEGIN
        INSERT INTO datasets_fts(rowid, name, description)
        VALUES (new.rowid, new.name, new.description);
    END""",
    """CREATE TRIGGER datasets_fts_ad AFTER DELETE ON datasets BEGIN
        INSERT INTO datasets_fts(datasets_fts, rowid, name, description)
        VALUES ('delete', old.rowid, old.name, old.description);
    END""",
    """CREATE TRIGGER datasets_fts_au AFTER UPDATE OF name, description ON datasets BEGIN
        INSERT INTO datasets_fts(datasets_fts, rowid, name, description)
        VALUES ('delete', old.rowid, old.name, old.description);
        INSERT INTO datasets_fts(rowid, name, description)
        VALUES (new.rowid, new.name, new.description);
    END""",
    "INSERT INTO datasets_fts(datasets_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for stmt in SQLITE_UP:
            op.execute(stmt)
    elif bind.dialect.name == "postgresql":
        try:
            with bind.begin_nested():
                op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as e:  # no permission: search falls back to scanning
            log.warning("pg_trgm unavailable (%s): dataset search will scan", e)
            return
        op.execute("CREATE INDEX ix_datasets_name_trgm ON datasets USING gin (name gin_trgm_ops)")
        op.execute(
            "CREATE INDEX ix_datasets_description_trgm ON datasets "
            "USING gin (description gin_trgm_ops)"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS datasets_fts_{name}")
        op.execute("DROP TABLE IF EXISTS datasets_fts")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_datasets_name_trgm")
        op.execute("DROP INDEX IF EXISTS ix_datasets_description_trgm")
