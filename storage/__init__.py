"""storage layer: typed models, engine and session setup, Alembic migrations. Imports nothing above."""
