"""Where the store lives when the config names no database: a light module (no SQLAlchemy), so the
CLI can tell whether a store exists before paying for the database libraries."""

from __future__ import annotations

import os
from pathlib import Path


def default_database_url() -> str:
    """An SQLite file in the state directory."""
    return f"sqlite:///{state_dir() / 'opsbot.db'}"


def state_dir() -> Path:
    """$OPSBOT_STATE_DIR, $XDG_STATE_HOME/opsbot or ~/.local/state/opsbot, created if needed."""
    if os.environ.get("OPSBOT_STATE_DIR"):
        state = Path(os.environ["OPSBOT_STATE_DIR"])
    elif os.environ.get("XDG_STATE_HOME"):
        state = Path(os.environ["XDG_STATE_HOME"]) / "opsbot"
    else:
        state = Path.home() / ".local" / "state" / "opsbot"
    state = state.expanduser().resolve()
    state.mkdir(parents=True, exist_ok=True)
    return state
