"""Alembic environment: runs slotbot's migrations on the engine `storage.db` builds."""

from __future__ import annotations

from alembic import context

import storage.billing  # noqa: F401
import storage.engagement  # noqa: F401
import storage.files  # noqa: F401
import storage.leases  # noqa: F401
import storage.messaging  # noqa: F401  (registers its tables on Base.metadata)
import storage.portal  # noqa: F401
from storage.db import make_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run the migrations inside one transaction on a live connection."""
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
