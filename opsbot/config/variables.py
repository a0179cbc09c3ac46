"""Which environment variables override the config, known without importing pydantic-settings."""

from __future__ import annotations

import os

# OPSBOT_<FIELD>, and OPSBOT_<SECTION>__<KEY> for a nested one (what pydantic-settings is told to read)
PREFIX = "OPSBOT_"
NESTED = "__"

# SLACK_* and OPENAI_* variables, as the Slack and OpenAI tools name them -> (section, key)
WELL_KNOWN: dict[str, tuple[str, str]] = {
    "SLACK_BOT_TOKEN": ("slack", "bot_token"),
    "SLACK_APP_TOKEN": ("slack", "app_token"),
    "SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
    "SLACK_API_URL": ("slack", "base_url"),
    "OPENAI_API_KEY": ("llm", "api_key"),
    "OPENAI_BASE_URL": ("llm", "base_url"),
    "OPENAI_MODEL": ("llm", "model"),
}

# <VAR>_FILE names a file holding <VAR>'s value (Docker and Kubernetes secrets) -> (section, key) or (key,)
SECRET_FILES: dict[str, tuple[str, ...]] = {
    "SLACK_BOT_TOKEN_FILE": ("slack", "bot_token"),
    "SLACK_APP_TOKEN_FILE": ("slack", "app_token"),
    "SLACK_SIGNING_SECRET_FILE": ("slack", "signing_secret"),
    "OPENAI_API_KEY_FILE": ("llm", "api_key"),
    "OPSBOT_DATABASE_URL_FILE": ("database_url",),  # a PostgreSQL URL carries its password
    "OPSBOT_ALERTMANAGER_TOKEN_FILE": ("alertmanager", "token"),
}


def overrides_present(fields: set[str]) -> bool:
    """True when a variable would change a config with these top-level `fields`: OPSBOT_<FIELD> or
    OPSBOT_<FIELD>__<KEY> (any case, as pydantic-settings reads them), or a non-empty SLACK_* / OPENAI_*
    / *_FILE one. Other OPSBOT_* variables (OPSBOT_CONFIG, OPSBOT_STATE_DIR, …) are not config fields."""
    for name in os.environ:
        lowered = name.lower()
        if lowered.startswith(PREFIX.lower()) and lowered[len(PREFIX) :].split(NESTED)[0] in fields:
            return True
    return any(os.environ.get(var) for var in (*WELL_KNOWN, *SECRET_FILES))
