"""Find, read and validate the config file; errors name the file, the line and the field."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from opsbot import yamlsource
from opsbot.config.models import Config
from opsbot.config.variables import overrides_present
from opsbot.yamlsource import Problem, SourceError

ConfigError = SourceError


def search_path() -> list[Path]:
    """Where a config is looked for when --config is not given, first match wins."""
    paths = []
    if os.environ.get("OPSBOT_CONFIG"):
        paths.append(Path(os.environ["OPSBOT_CONFIG"]))
    paths += [Path("opsbot.yaml"), Path.home() / ".config" / "opsbot" / "config.yaml", Path("/etc/opsbot/config.yaml")]
    return paths


def find_config() -> Path | None:
    for p in search_path():
        if p.is_file():
            return p
    return None


def load_config(path: str | Path | None = None) -> Config:
    """Load `path` (or the first file on the search path, or the embedded defaults)."""
    if path is None:
        path = find_config()
    if path is None:
        return _build({})
    src = yamlsource.load(path)
    data = src.data if src.data is not None else {}
    if not isinstance(data, dict):
        raise SourceError([Problem(src.file, 1, "", "the config must be a YAML mapping (key: value lines)")])
    base = Path(path).resolve().parent
    try:
        cfg = _build(data)
    except ValidationError as e:
        raise SourceError(yamlsource.pydantic_problems(src, e)) from None
    cfg.source = str(path)
    _resolve_paths(cfg, base)
    return cfg


def _build(data: dict) -> Config:
    """The config from the file's `data`, with the environment's overrides when there are any."""
    if not overrides_present(set(Config.model_fields)):
        return Config(**data)
    from opsbot.config.environment import EnvironmentConfig

    return EnvironmentConfig(**data)


def _resolve_paths(cfg: Config, base: Path) -> None:
    """Relative paths in a config file are relative to that file, not to the working directory."""
    cfg.rules.dirs = [d if d.is_absolute() else base / d for d in cfg.rules.dirs]
    for source in cfg.knowledge.sources:
        if not source.path.is_absolute():
            source.path = base / source.path
    for section, attr in (
        (cfg.ssh, "key_file"),
        (cfg.ssh, "known_hosts"),
        (cfg.audit, "key_file"),
        (cfg.store, "key_file"),
    ):
        p = getattr(section, attr)
        if p is not None and not p.is_absolute():
            setattr(section, attr, base / p)
    if (
        cfg.database_url
        and cfg.database_url.startswith("sqlite:///")
        and not cfg.database_url.startswith("sqlite:////")
    ):
        rel = cfg.database_url[len("sqlite:///") :]
        if rel and rel != ":memory:":
            cfg.database_url = f"sqlite:///{base / rel}"
