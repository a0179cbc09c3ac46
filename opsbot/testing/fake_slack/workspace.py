"""The fake workspace: its team, bot and app ids, tokens and signing secret, and fresh Slack ids."""

from __future__ import annotations

import itertools
import threading
import time
import uuid

TEAM_ID = "T0FAKE"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0OPSBOT"
BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
SIGNING_SECRET = "fake-signing-secret"

_ts_counter = itertools.count(1)
_ts_lock = threading.Lock()


def new_ts() -> str:
    """A fresh, increasing Slack timestamp ("1700000000.000123")."""
    with _ts_lock:
        n = next(_ts_counter)
    return f"{int(time.time())}.{n:06d}"


def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:10].upper()
