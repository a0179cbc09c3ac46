"""Everything that leaves the bot passes the secret redactor and a size cap."""

from __future__ import annotations

from opsbot.core.reply import Reply
from opsbot.i18n import _
from opsbot.redact import cap, redact

TEXT_LIMIT = 3_000
CODE_LIMIT = 12_000
CELL_LIMIT = 300
ROW_LIMIT = 100


def sanitize(reply: Reply) -> Reply:
    reply.text = cap(redact(reply.text), TEXT_LIMIT)
    if reply.code is not None:
        reply.code = cap(redact(reply.code), CODE_LIMIT)
    for table in reply.tables:
        if len(table.rows) > ROW_LIMIT:
            dropped = len(table.rows) - ROW_LIMIT
            table.rows = [
                *table.rows[:ROW_LIMIT],
                [_("… {count} more rows").format(count=dropped)] + [""] * (len(table.columns) - 1),
            ]
        table.rows = [[cap(redact(str(c)), CELL_LIMIT) for c in row] for row in table.rows]
    return reply
