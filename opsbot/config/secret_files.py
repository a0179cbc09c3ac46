"""Secrets read from files, the container convention (Docker and Kubernetes secrets are files):
`SLACK_BOT_TOKEN_FILE=/run/secrets/slack_bot_token` means "the bot token is this file's content".

Each `<VAR>_FILE` stands for the variable `<VAR>` and loses to it when both are set; both win over the
config file. The content is taken whole, less surrounding whitespace (the newline an editor adds). An
unreadable file stops the start with one sentence naming the variable and the path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic_settings import PydanticBaseSettingsSource

from opsbot.config.variables import SECRET_FILES
from opsbot.yamlsource import Problem, SourceError


class SecretFiles(PydanticBaseSettingsSource):
    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False  # required by the interface; __call__ does the work

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        problems = []
        for var, where in SECRET_FILES.items():
            path = os.environ.get(var)
            if not path:
                continue
            try:
                value = Path(path).read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as e:
                reason = getattr(e, "strerror", None) or str(e)
                problems.append(Problem(path, None, var, f"cannot read the secret file {var} names: {reason}"))
                continue
            if not value:
                problems.append(Problem(path, None, var, f"the secret file {var} names is empty"))
                continue
            if len(where) == 1:
                out[where[0]] = value
            else:
                out.setdefault(where[0], {})[where[1]] = value
        if problems:
            raise SourceError(problems)
        return out
