"""Schema migrations: the only way the schema is ever created or changed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.db import Database, database_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration pointing at slotbot's migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = database_url(url)
    return cfg


def upgrade(url: str | None = None, revision: str = "heads") -> None:
    """Bring the database schema up to `revision` (every newest head by default).

    Features add their tables in migrations that branch from a shared base, so there may
    be several heads; "heads" applies them all.
    """
    command.upgrade(alembic_config(url), revision)


def is_current(db: Database) -> bool:
    """Whether the database is at every newest migration.

    Alembic does not keep a head in the version table once a later migration that
    `depends_on` it is applied, so "current" means every head is applied or beneath one.
    """
    script = ScriptDirectory.from_config(alembic_config(db.url))
    with db.engine.connect() as connection:
        current = tuple(MigrationContext.configure(connection).get_current_heads())
        connection.rollback()
    if not current:
        return False
    applied = {revision.revision for revision in script.iterate_revisions(current, "base")}
    return set(script.get_heads()) <= applied
