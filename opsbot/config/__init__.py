from opsbot.config.loader import ConfigError, load_config
from opsbot.config.models import Config, DeploymentConfig, HostConfig, Inventory

__all__ = ["Config", "ConfigError", "DeploymentConfig", "HostConfig", "Inventory", "load_config"]
