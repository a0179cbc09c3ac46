"""The audit trail: append-only rows chained by SHA-256, plus a head row that remembers the end.

Each row's hash covers the previous row's hash and the row's own content, so editing a row breaks its
hash, removing a row breaks the sequence, and removing the last rows disagrees with the head (which
is updated in the same transaction as every append). The functions here work on a connection that is
already inside the caller's transaction: an audit row commits or rolls back with the change it records.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from opsbot.store.tables import audit_head, audit_log, dumps

GENESIS = "0" * 64  # the prev_hash of row 1
HEAD_ID = 1


def content_hash(prev_hash: str, seq: int, ts: datetime, actor: str, kind: str, data: str) -> str:
    """sha256(prev_hash + canonical content). A JSON list keeps field boundaries unambiguous."""
    stamp = ts.astimezone(UTC).isoformat(timespec="microseconds")
    content = dumps([seq, stamp, actor, kind, data])
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def append(conn: Connection, actor: str, kind: str, data: dict[str, Any], now: datetime) -> int:
    """Add one row at the end of the chain; returns its seq.

    Appends are serialised by locking the head row: SELECT ... FOR UPDATE on PostgreSQL; on SQLite
    the store's write transactions start with BEGIN IMMEDIATE (FOR UPDATE compiles to nothing there).
    """
    head = conn.execute(
        select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID).with_for_update()
    ).one_or_none()
    if head is None:
        raise RuntimeError("the audit head row is missing: run `Store.migrate()` (or the database was tampered with)")
    seq = int(head.seq) + 1
    text = dumps(data)
    digest = content_hash(head.hash, seq, now, actor, kind, text)
    conn.execute(
        insert(audit_log).values(seq=seq, ts=now, actor=actor, kind=kind, data=text, prev_hash=head.hash, hash=digest)
    )
    conn.execute(update(audit_head).where(audit_head.c.id == HEAD_ID).values(seq=seq, hash=digest))
    return seq


def _missing(first: int, last: int, after: int) -> str:
    rows = f"audit row {first} is" if first == last else f"audit rows {first}-{last} are"
    if after == 0:
        return f"{rows} missing: the trail starts at row {last + 1}"
    return f"{rows} missing: row {last + 1} does not follow row {after}"


def verify(conn: Connection) -> list[str]:
    """Walk the whole chain; one sentence per problem found, [] when the trail is intact."""
    problems: list[str] = []
    prev_seq, prev_hash = 0, GENESIS
    rows = conn.execution_options(yield_per=1000).execute(select(audit_log).order_by(audit_log.c.seq))
    for row in rows:
        if row.seq != prev_seq + 1:
            problems.append(_missing(prev_seq + 1, row.seq - 1, prev_seq))
        elif row.prev_hash != prev_hash:
            problems.append(
                f"audit row {row.seq} does not follow row {prev_seq}: its prev_hash is not the hash "
                f"of row {prev_seq}, so row {prev_seq} was replaced"
            )
        if content_hash(row.prev_hash, row.seq, row.ts, row.actor, row.kind, row.data) != row.hash:
            problems.append(f"audit row {row.seq} was edited: its hash does not match its content")
        prev_seq, prev_hash = row.seq, row.hash

    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID)).one_or_none()
    if head is None:
        problems.append("the audit head row is missing, so deleted rows at the end cannot be ruled out")
    elif head.seq > prev_seq:
        gone = head.seq - prev_seq
        problems.append("the last audit row was deleted" if gone == 1 else f"the last {gone} audit rows were deleted")
    elif head.seq < prev_seq:
        problems.append(
            f"audit rows {head.seq + 1}-{prev_seq} were added outside the store: the audit head ends at row {head.seq}"
        )
    elif head.hash != prev_hash:
        problems.append(f"audit row {prev_seq} was replaced: it does not match the audit head")
    return problems


def recent(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """The last `limit` rows, oldest first (like `tail`)."""
    rows = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)).all()
    return [
        {
            "seq": r.seq,
            "ts": r.ts.isoformat(),
            "actor": r.actor,
            "kind": r.kind,
            "data": _loads(r.data),
            "prev_hash": r.prev_hash,
            "hash": r.hash,
        }
        for r in reversed(rows)
    ]


def _loads(text: str) -> Any:
    # A tampered row may no longer hold JSON; show it as it is rather than fail to show the trail.
    try:
        return json.loads(text)
    except ValueError:
        return text
