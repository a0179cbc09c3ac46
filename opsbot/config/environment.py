"""The environment's say over the config file, through pydantic-settings: OPSBOT_* variables (nested
with __, e.g. OPSBOT_LLM__MODEL), then SLACK_* / OPENAI_* as the Slack and OpenAI tools name them, then
secrets from files (*_FILE), then the YAML file; first wins.

Imported only when such a variable is set (`overrides_present`): pydantic-settings costs about 50 ms to
import, a fifth of what a command like `opsbot parse` is allowed for start-up.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from opsbot.config.models import Config
from opsbot.config.secret_files import SecretFiles
from opsbot.config.variables import NESTED, PREFIX, WELL_KNOWN


class _WellKnownEnv(PydanticBaseSettingsSource):
    """SLACK_* and OPENAI_* variables, as the Slack and OpenAI tools name them."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False  # required by the interface; __call__ does the work

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for var, (section, key) in WELL_KNOWN.items():
            if os.environ.get(var):
                out.setdefault(section, {})[key] = os.environ[var]
        return out


class EnvironmentConfig(BaseSettings, Config):
    """A Config that reads the environment as it is built (Config's own settings, extra="forbid" and
    validate_default, come after BaseSettings' and so stay)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_nested_delimiter=NESTED)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        return env_settings, _WellKnownEnv(settings_cls), SecretFiles(settings_cls), init_settings
