from opsbot.config.models import Config, HostConfig, DeploymentConfig, Inventory
from opsbot.config.loader import load_config, ConfigError

__all__ = ["Config", "HostConfig", "DeploymentConfig", "Inventory", "load_config", "ConfigError"]
