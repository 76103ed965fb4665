"""Alembic environment: the engine comes from the caller (storage.db.alembic_config).

On SQLite, a batch migration copies a table and drops the old one; with foreign keys on,
that DROP would cascade into every table that refers to it (a person's roles, say). So
foreign keys are off while migrating, as SQLite's own ALTER TABLE procedure says, and are
checked before they are turned on again."""

from alembic import context
from sqlalchemy import create_engine

from storage.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # invoked by the alembic command line for autogenerate
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///autogen.sqlite3")

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # a no-op inside a transaction: set before the migration's transaction begins
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows that break foreign keys: {broken[:5]}")
        connection.commit()
    finally:
        if sqlite:
            connection.rollback()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
