"""The audit trail: append-only rows chained by SHA-256, plus a head row that remembers the end.

Each row's hash covers the previous row's hash and the row's own content, so editing a row breaks its
hash, removing a row breaks the sequence, and removing the last rows disagrees with the head (which
is updated in the same transaction as every append). The functions here work on a connection that is
already inside the caller's transaction: an audit row commits or rolls back with the change it records.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from opsbot.store.tables import audit_head, audit_log, dumps

anchor_log = logging.getLogger("opsbot.audit")
GENESIS = "0" * 64  # the prev_hash of row 1
HEAD_ID = 1


KEYED = "k:"  # a keyed row's hash: "k:" + the first 62 hex digits of HMAC-SHA256 (fits the 64 columns)


def content_hash(
    prev_hash: str, seq: int, ts: datetime, actor: str, kind: str, data: str, key: bytes | None = None
) -> str:
    """sha256(prev_hash + canonical content), or with a key HMAC-SHA256 over the same bytes: then
    someone who can write the database but does not hold the key cannot recompute a rewritten chain.
    A JSON list keeps field boundaries unambiguous."""
    stamp = ts.astimezone(UTC).isoformat(timespec="microseconds")
    message = (prev_hash + dumps([seq, stamp, actor, kind, data])).encode("utf-8")
    if key is not None:
        return KEYED + hmac.new(key, message, hashlib.sha256).hexdigest()[:62]
    return hashlib.sha256(message).hexdigest()


def append(
    conn: Connection, actor: str, kind: str, data: dict[str, Any], now: datetime, key: bytes | None = None
) -> int:
    """Add one row at the end of the chain; returns its seq. The new head goes to the log too (the
    anchor `opsbot audit verify --anchor` checks the chain against).

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
    digest = content_hash(head.hash, seq, now, actor, kind, text, key)
    conn.execute(
        insert(audit_log).values(seq=seq, ts=now, actor=actor, kind=kind, data=text, prev_hash=head.hash, hash=digest)
    )
    conn.execute(update(audit_head).where(audit_head.c.id == HEAD_ID).values(seq=seq, hash=digest))
    anchor_log.info("audit anchor %s", anchor_text(seq, digest))
    return seq


def anchor_text(seq: int, digest: str) -> str:
    return f"{seq}:{digest}"


ANCHOR = re.compile(r"\b(\d+):((?:k:)?[0-9a-f]{62,64})\b")


def parse_anchor(text: str) -> tuple[int, str] | None:
    """`SEQ:HASH`, or the last anchor in a log text."""
    found = ANCHOR.findall(text)
    if not found:
        return None
    seq, digest = found[-1]
    return int(seq), digest


def _missing(first: int, last: int, after: int) -> str:
    rows = f"audit row {first} is" if first == last else f"audit rows {first}-{last} are"
    if after == 0:
        return f"{rows} missing: the trail starts at row {last + 1}"
    return f"{rows} missing: row {last + 1} does not follow row {after}"


def verify(conn: Connection, key: bytes | None = None, anchor: tuple[int, str] | None = None) -> list[str]:
    """Walk the whole chain; one sentence per problem found, [] when the trail is intact. Keyed rows
    need `key`; once a keyed row appears every later row must be keyed. `anchor` (seq, hash) is a head
    seen outside the database (the log): the chain must still hold exactly that row."""
    problems: list[str] = []
    prev_seq, prev_hash = 0, GENESIS
    first_keyed: int | None = None
    unverifiable = 0
    anchored: str | None = None
    rows = conn.execution_options(yield_per=1000).execute(select(audit_log).order_by(audit_log.c.seq))
    for row in rows:
        if row.seq != prev_seq + 1:
            problems.append(_missing(prev_seq + 1, row.seq - 1, prev_seq))
        elif row.prev_hash != prev_hash:
            problems.append(
                f"audit row {row.seq} does not follow row {prev_seq}: its prev_hash is not the hash "
                f"of row {prev_seq}, so row {prev_seq} was replaced"
            )
        keyed = row.hash.startswith(KEYED)
        if keyed and first_keyed is None:
            first_keyed = row.seq
        if not keyed and first_keyed is not None:
            problems.append(
                f"audit row {row.seq} is not keyed though row {first_keyed} before it is: "
                "the chain was rewritten by someone without the audit key"
            )
        elif keyed and key is None:
            unverifiable += 1
        elif content_hash(row.prev_hash, row.seq, row.ts, row.actor, row.kind, row.data, key if keyed else None) != (
            row.hash
        ):
            problems.append(f"audit row {row.seq} was edited: its hash does not match its content")
        if anchor is not None and row.seq == anchor[0]:
            anchored = row.hash
        prev_seq, prev_hash = row.seq, row.hash
    if unverifiable:
        problems.append(
            f"{unverifiable} keyed audit rows cannot be checked without the audit key "
            "(OPSBOT_AUDIT__KEY or audit.key_file)"
        )
    if anchor is not None:
        seq, digest = anchor
        if anchored is None and seq > prev_seq:
            problems.append(f"the anchor names row {seq}, but the trail ends at row {prev_seq}: rows were deleted")
        elif anchored is None:
            problems.append(f"the anchor names row {seq}, which is missing from the trail")
        elif anchored != digest:
            problems.append(
                f"audit row {seq} does not match the anchor: "
                "the chain up to it was rewritten after the anchor was taken"
            )

    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID)).one_or_none()
    if head is None:
        problems.append("the audit head row is missing, so deleted rows at the end cannot be ruled out")
    elif head.seq > prev_seq:
        gone = head.seq - prev_seq
        problems.append(
            f"the last audit row (row {head.seq}) was deleted"
            if gone == 1
            else f"the last {gone} audit rows (rows {prev_seq + 1}-{head.seq}) were deleted"
        )
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
