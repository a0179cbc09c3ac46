"""The store: opsbot's persistence on SQLite (default) or PostgreSQL, with an append-only,
hash-chained audit trail. See store.py for the Store, audit.py for the chain, tables.py for the schema.

The names are imported on first use: SQLAlchemy and Alembic take a third of a second to import, and a
command that never opens the store (`opsbot parse` without one) should not pay for them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from opsbot.store.location import default_database_url

if TYPE_CHECKING:
    from opsbot.store.records import ApprovalRecord
    from opsbot.store.store import Store

__all__ = ["ApprovalRecord", "Store", "default_database_url"]

_LAZY = {"Store": "opsbot.store.store", "ApprovalRecord": "opsbot.store.records"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'opsbot.store' has no attribute {name!r}")
