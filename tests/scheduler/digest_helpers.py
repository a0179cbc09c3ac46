"""Helpers for the scheduler specs (a module of its own: every test folder has a `conftest`)."""

from __future__ import annotations

from pathlib import Path

import yaml


def write_config(directory: Path, digests: dict, **extra) -> Path:
    data = {
        "inventory": {"hosts": {"web-1": {"address": "127.0.0.1", "port": 9, "services": ["nginx"]}}},
        "database_url": f"sqlite:///{directory / 'opsbot.db'}",
        "parser": {"default": "offline"},
        "digests": digests,
        **extra,
    }
    path = directory / "opsbot.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
