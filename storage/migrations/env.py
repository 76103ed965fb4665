"""Alembic environment: the engine comes from the caller (storage.db.alembic_config)."""

from alembic import context
from sqlalchemy import create_engine

from storage.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # invoked by the alembic command line for autogenerate
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///autogen.sqlite3")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
