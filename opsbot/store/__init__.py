"""The store: opsbot's persistence on SQLite (default) or PostgreSQL, with an append-only,
hash-chained audit trail. See store.py for the Store, audit.py for the chain, tables.py for the schema."""

from opsbot.store.records import ApprovalRecord
from opsbot.store.store import Store, default_database_url

__all__ = ["ApprovalRecord", "Store", "default_database_url"]
