"""Alembic environment for the store. Store.migrate() builds the Config in code and hands over a
connection that is already inside a transaction (so a migration commits or rolls back as a whole,
on SQLite too). Offline SQL generation is not supported: there is no URL here to generate for."""

from __future__ import annotations

from alembic import context

from opsbot.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("run migrations through opsbot.store.Store.migrate(), not the alembic command line")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds tables instead, for future migrations.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
